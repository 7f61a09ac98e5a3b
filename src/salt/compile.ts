// What compile (engine/compile.ts) and pillar (pillar/load.ts) call for a Salt tree: the top.sls of states/ and
// pillar/, an sls rendered with Salt's Jinja names and translated into orch's declarations, its salt:// sources
// read from the state tree. Salt's constructs orch cannot run come back as findings, which callers turn into errors.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { InputError, InputErrors, OrchError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import { globToRegExp } from '../inventory/glob.js';
import { targetMatchesHost } from '../inventory/target.js';
import type { HostSpec } from '../inventory/types.js';
import { renderString } from '../render/env.js';
import { lineOf, parseYaml } from '../render/yaml.js';
import { jinjaCompat, saltEnvFor } from './env.js';
import { grainsFromFacts, saltContext, traverse } from './context.js';
import { findingError, rendererFinding, type Finding } from './findings.js';
import { saltUrlFile, readSaltUrl } from './paths.js';
import { readSaltTop, type SaltTopEntry } from './top.js';
import { translateSls, type Translated } from './translate.js';

export interface SaltRun {
  root: string;
  env: nunjucks.Environment;
  host: HostSpec;
  facts?: Facts;
  pillar: Record<string, unknown>;
  /** `--saltenv` (or `saltenv=` on the command line); undefined: every environment of the top file. */
  saltenv?: string;
  /** orch's own template context (host, vars, facts, pillar_get ...), under the Salt names. */
  baseCtx: Record<string, unknown>;
}

/** The Salt template context of one host (for one sls when given). */
export function saltRenderContext(run: SaltRun, sls?: string, init = false): Record<string, unknown> {
  return {
    ...run.baseCtx,
    ...saltContext({
      host: run.host.name,
      pillar: run.pillar,
      facts: run.facts,
      saltenv: run.saltenv ?? 'base',
      sls,
      init,
    }),
  };
}

/** Whether a top entry names the host: a glob or list target as orch's, a grain target on the host's grains. */
export function saltTargetMatches(entry: SaltTopEntry, host: HostSpec, facts: Facts | undefined): boolean {
  if (entry.grain) {
    if (!facts) return false;
    const v = traverse(grainsFromFacts(host.name, facts), entry.grain.key);
    const values = Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];
    const re = globToRegExp(entry.grain.value);
    return values.some((x) => re.test(x));
  }
  return targetMatchesHost(entry.target, host, facts);
}

/** Read and render a Salt top file; undefined when it does not exist. */
export function readTopSls(
  run: SaltRun,
  file: string,
  display: string,
): { entries: SaltTopEntry[]; findings: Finding[] } | undefined {
  if (!existsSync(file)) return undefined;
  const text = renderString(
    saltEnvFor(run.env, run.root),
    jinjaCompat(readFileSync(file, 'utf8')),
    saltRenderContext(run),
    {
      file: display,
      host: run.host.name,
    },
  );
  return readSaltTop(parseYaml(text, display), display, lineOf, run.saltenv);
}

/** The sls names states/top.sls assigns to the host; undefined when the tree has no top.sls. */
export function saltTopStateFiles(run: SaltRun): string[] | undefined {
  const file = path.join(run.root, 'states', 'top.sls');
  const top = readTopSls(run, file, 'states/top.sls');
  if (!top) return undefined;
  throwFindings(top.findings, run.host.name);
  const names: string[] = [];
  for (const entry of top.entries) {
    let hit: boolean;
    try {
      hit = saltTargetMatches(entry, run.host, run.facts);
    } catch (err) {
      if (!(err instanceof OrchError)) throw err;
      throw new InputError(err.code, `top-file target: ${err.message}`, {
        file: 'states/top.sls',
        line: entry.line,
      });
    }
    if (hit) for (const n of entry.names) if (!names.includes(n)) names.push(n);
  }
  return names;
}

/** Render one sls with Salt's names, parse it and translate it; its salt:// sources are read (and rendered). */
export function compileSls(
  run: SaltRun,
  file: string,
  display: string,
  sls: string,
): Translated & { text: string } {
  const ctx = saltRenderContext(run, sls, path.basename(file) === 'init.sls');
  const env = saltEnvFor(run.env, run.root);
  const raw = readFileSync(file, 'utf8');
  const renderer = rendererFinding(raw, display);
  if (renderer) throw findingError(renderer, run.host.name);
  const text = renderString(env, jinjaCompat(raw), ctx, {
    file: display,
    host: run.host.name,
  });
  const doc = parseYaml(text, display);
  const translated = translateSls(doc, {
    file: display,
    lineOf,
    sls,
    // A url that is refused counts as there: reading it then reports why, naming the state.
    exists: (url) => {
      try {
        return saltUrlFile(path.join(run.root, 'states'), url) !== undefined;
      } catch {
        return true;
      }
    },
    source: ({ url, template, vars, state, line }) => {
      let found: ReturnType<typeof readSaltUrl>;
      try {
        found = readSaltUrl(path.join(run.root, 'states'), url);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        throw new InputError(err.code, `state '${state}': ${err.message}`, { file: display, line, state });
      }
      if (!template) return found.text;
      return renderString(
        env,
        jinjaCompat(found.text),
        { ...ctx, ...vars },
        { file: found.display, host: run.host.name },
      );
    },
  });
  return { ...translated, text };
}

/** Findings as errors of the host: one thrown as it is, several together. */
export function findingErrors(findings: Finding[], host: string): InputError[] {
  return findings.map((f) => findingError(f, host));
}

/** Throw the findings as the host's errors (none: nothing). */
export function throwFindings(findings: Finding[], host: string): void {
  const errors = findingErrors(findings, host);
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new InputErrors(errors);
}
