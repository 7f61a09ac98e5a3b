// Compiles one host's pillar: pillar/top.yaml says which pillar files apply to which targets (same syntax as
// `orch` targets: names, globs, group:<name>, comma lists); each file is rendered with nunjucks (context: host,
// vars, facts when given), parsed (`!secret` allowed), and the files are deep-merged in top order (later wins,
// lists replaced — see merge.ts). Secrets are decrypted through a SecretResolver and every plaintext is
// registered in the redactor. Reads pillar/ only; never writes.
//
// top.yaml:            pillar/postgres/common.yaml is named `postgres.common`; `postgres` alone may also be
//   '*': [common]      pillar/postgres/init.yaml. A file named by several matching targets is merged once, at its
//   group:db: [postgres.common]   first place. A group that no host belongs to simply matches nothing.
// Line numbers of template errors are those of the pillar file; YAML errors (after rendering) count lines of the
// rendered text, which are the same unless the file's template tags add or remove lines before the error.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { z } from 'zod';
import type { ProjectConfig } from '../config/project.js';
import { InputError, OrchError, errorMessage } from '../errors.js';
import { postgresLayout } from '../facts/os/index.js';
import { parseFacts } from '../facts/parse.js';
import type { Facts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import { splitTarget, targetMatchesHost } from '../inventory/target.js';
import { buildRenderContext } from '../render/context.js';
import { isInside } from '../render/loader.js';
import { createRenderEnv, renderString } from '../render/env.js';
import { validateDoc } from '../render/validate.js';
import { lineOf, loadYamlFile, parseYaml, secretSource } from '../render/yaml.js';
import { redactor } from '../secrets/redactor.js';
import { SecretRef, type SecretResolver } from '../secrets/ref.js';
import { renderSaltPillar, saltPillarContext, saltPillarTop } from '../salt/pillar.js';
import { deepMerge, isPlainObject } from './merge.js';

const PILLAR_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const topSchema = z
  .record(z.string(), z.array(z.string().regex(PILLAR_NAME, 'expected a pillar name like postgres.common')))
  .nullable();

export interface TopEntry {
  target: string;
  names: string[];
  line?: number;
  /** A Salt pillar/top.sls entry matches by its own rules (grain targets). */
  matches?: (host: HostSpec, facts: Facts | undefined) => boolean;
}

export interface PillarOptions {
  resolver?: SecretResolver;
  facts?: Facts;
  /** A render environment to reuse across hosts (default: a new one for the project). */
  env?: nunjucks.Environment;
}

/** The entries of pillar/top.yaml in file order; none when the file does not exist. */
export function loadTop(project: ProjectConfig): TopEntry[] {
  const file = path.join(project.root, 'pillar', 'top.yaml');
  if (!existsSync(file)) return [];
  const display = 'pillar/top.yaml';
  const raw = loadYamlFile(file, { display });
  const doc = validateDoc(topSchema, raw, display, 'BAD_INPUT');
  return Object.entries(doc ?? {}).map(([target, names]) => {
    const line = raw && typeof raw === 'object' ? lineOf(raw, target) : undefined;
    // A malformed target ('a,,b') is this file's error, found before any host is matched against it.
    try {
      splitTarget(target);
    } catch (err) {
      if (!(err instanceof OrchError)) throw err;
      throw new InputError(
        err.code,
        `top-file target: ${err.message}`,
        { file: display, line },
        { cause: err },
      );
    }
    return { target, names, line };
  });
}

/** The pillar file names that apply to `host`, in merge order, each once. */
export function pillarNamesFor(
  top: TopEntry[],
  host: HostSpec,
  facts?: Facts,
): { name: string; line?: number }[] {
  const out: { name: string; line?: number }[] = [];
  const seen = new Set<string>();
  for (const entry of top) {
    if (!matchesEntry(entry, host, facts)) continue;
    for (const name of entry.names) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, line: entry.line });
    }
  }
  return out;
}

// A fact term of the top file with no facts at hand (`orch pillar show`) is this file's error, with its line.
function matchesEntry(entry: TopEntry, host: HostSpec, facts: Facts | undefined): boolean {
  try {
    return entry.matches ? entry.matches(host, facts) : targetMatchesHost(entry.target, host, facts);
  } catch (err) {
    if (!(err instanceof OrchError)) throw err;
    throw new InputError(
      err.code,
      `top-file target: ${err.message}`,
      { file: entry.matches ? 'pillar/top.sls' : 'pillar/top.yaml', line: entry.line },
      { cause: err },
    );
  }
}

/** Absolute path and display name of pillar file `name` (dots are subdirectories). */
export function pillarFile(
  project: ProjectConfig,
  name: string,
): { file: string; display: string } | undefined {
  const rel = name.split('.').join('/');
  const salt = [`${rel}.sls`, `${rel}/init.sls`];
  for (const candidate of [`${rel}.yaml`, `${rel}.yml`, `${rel}/init.yaml`, `${rel}/init.yml`, ...salt]) {
    const file = path.join(project.root, 'pillar', candidate);
    if (existsSync(file)) return { file, display: `pillar/${candidate}` };
  }
  return undefined;
}

/** The merged pillar of one host, secrets decrypted when a resolver is given (else left as SecretRef). */
export async function compilePillar(
  project: ProjectConfig,
  host: HostSpec,
  opts: PillarOptions = {},
): Promise<Record<string, unknown>> {
  const env = opts.env ?? createRenderEnv(project.root);
  const layers: Record<string, unknown>[] = [];
  const base = buildRenderContext({
    host: host.name,
    vars: host.vars,
    facts: opts.facts,
    extra: { os_postgres: osPostgresFor(opts.facts) },
  });
  // A Salt pillar tree: pillar/top.sls when there is no pillar/top.yaml (src/salt/pillar.ts).
  const saltTop = existsSync(path.join(project.root, 'pillar', 'top.yaml'))
    ? undefined
    : saltPillarTop(project.root, env, host, opts.facts, base);
  const topFile = saltTop ? 'pillar/top.sls' : 'pillar/top.yaml';
  for (const { name, line } of pillarNamesFor(saltTop ?? loadTop(project), host, opts.facts)) {
    const found = pillarFile(project, name);
    // Like state files and templates: a symlink in pillar/ must not read a file from elsewhere on the controller.
    const real = found && realpathSync(found.file);
    if (real && !isInside(realpathSync(path.join(project.root, 'pillar')), real))
      throw new InputError(
        'BAD_INPUT',
        `pillar file ${name} resolves outside pillar/ (to ${real}); refused`,
        {
          file: topFile,
          line,
        },
      );
    if (!found) {
      const rel = `pillar/${name.split('.').join('/')}`;
      throw new InputError(
        'BAD_INPUT',
        `pillar file ${name} not found (looked for ${rel}.yaml and ${rel}.sls)`,
        {
          file: topFile,
          line,
        },
      );
    }
    const where = { file: found.display, host: host.name };
    const raw = readFileSync(found.file, 'utf8');
    const text = found.display.endsWith('.sls')
      ? renderSaltPillar(
          project.root,
          env,
          raw,
          saltPillarContext(project.root, env, host, opts.facts, base),
          where,
        )
      : renderString(env, raw, base, where);
    const doc = parseYaml(text, found.display, { secrets: true });
    if (doc === null) continue;
    if (!isPlainObject(doc)) {
      throw new InputError('BAD_INPUT', 'a pillar file must be a mapping of keys to values', {
        file: found.display,
      });
    }
    layers.push(doc);
  }
  const pillar = deepMerge(...layers);
  if (opts.resolver) await decryptAll(pillar, opts.resolver, host.name);
  return pillar;
}

/** Every SecretRef in a pillar with its dotted key path. */
export function findSecrets(
  value: unknown,
  prefix: string[] = [],
): { keyPath: string; segments: string[]; ref: SecretRef }[] {
  if (value instanceof SecretRef) return [{ keyPath: prefix.join('.'), segments: prefix, ref: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecrets(v, [...prefix, String(i)]));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => findSecrets(v, [...prefix, k]));
  return [];
}

async function decryptAll(
  pillar: Record<string, unknown>,
  resolver: SecretResolver,
  host: string,
): Promise<void> {
  const secrets = findSecrets(pillar);
  const plain = await Promise.all(
    secrets.map(({ keyPath, ref }) => {
      const file = secretSource(ref);
      return resolver.decrypt(ref, file ? { host, keyPath, file } : { host, keyPath });
    }),
  );
  secrets.forEach(({ keyPath, segments }, i) => {
    const text = plain[i]!;
    try {
      redactor.add(text);
    } catch (err) {
      throw new OrchError('SECRET_ERROR', `pillar key '${keyPath}' for host ${host}: ${errorMessage(err)}`);
    }
    setPath(pillar, segments, text);
  });
}

// Segments come from findSecrets over the same tree, so every step exists (lists are indexed by string too).
function setPath(root: Record<string, unknown>, segments: string[], value: unknown): void {
  let node: Record<string, unknown> = root;
  for (const seg of segments.slice(0, -1)) node = node[seg] as Record<string, unknown>;
  node[segments[segments.length - 1]!] = value;
}

/**
 * `os_postgres(version[, cluster])` for pillar templates: the OS layer's PostgreSQL layout of this host. Without
 * facts (a pillar read only for its topology) it answers for Debian, the layout orch runs for real.
 */
function osPostgresFor(facts: Facts | undefined) {
  const known = facts ?? { ...parseFacts(''), osFamily: 'Debian' as const, pkgTool: 'apt' as const };
  return (version: unknown, cluster?: unknown) =>
    postgresLayout(known, String(version), typeof cluster === 'string' ? cluster : undefined);
}
