// Compiles one host's states on the controller: top file -> state files (nunjucks, then YAML) -> declarations ->
// validated args -> order -> prepared modules. Touches no host; every error names file, line and host.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { InputError, InputErrors, OrchError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import { targetMatchesHost } from '../inventory/target.js';
import { buildRenderContext } from '../render/context.js';
import { renderString, renderTemplate } from '../render/env.js';
import { isInside } from '../render/loader.js';
import { lineOf, parseYaml } from '../render/yaml.js';
import { isSecretValue, pillarKeysOf, showValue } from '../render/provenance.js';
import { badOsAccountArg } from '../states/common.js';
import { lookupState, stateNames } from '../states/registry.js';
import { compileSls, findingErrors, saltTopStateFiles, type SaltRun } from '../salt/compile.js';
import type { AnyStateFunction, StateContext } from '../states/types.js';
import { declsFromDocument, type StateDecl } from './decl.js';
import { planOrder, type PlannedState } from './order.js';

export interface CompiledState extends PlannedState {
  impl: AnyStateFunction;
  /** Arguments after validation and defaults. */
  args: Record<string, unknown>;
  prepared: unknown;
}

export interface CompiledHost {
  host: HostSpec;
  facts: Facts;
  pillar: Record<string, unknown>;
  ctx: StateContext;
  states: CompiledState[];
}

export interface CompileInputs {
  root: string;
  env: nunjucks.Environment;
  host: HostSpec;
  facts: Facts;
  pillar: Record<string, unknown>;
  /** Restrict to these state files (e.g. `orch apply host postgres.primary`); default: the top file's. */
  only?: string[];
  /** `orch apply --force-rebuild` named this host for this run. */
  forceRebuild?: boolean;
  /** The hosts running alongside this one (StateContext.runHosts). */
  runHosts?: () => readonly string[];
  /** A Salt tree's environment (`--saltenv`); default: every environment of states/top.sls. */
  saltenv?: string;
  /** Called with each state file's text after nunjucks, before YAML (for `orch render`). */
  onRendered?: (file: string, text: string) => void;
}

const statesDir = (root: string) => path.join(root, 'states');

/** Display path of a state file relative to the project root. */
function rel(root: string, file: string): string {
  return path.relative(root, file) || file;
}

/** Where the top file is: states/top.yaml. */
export function topStateFilesPath(root: string): string {
  return path.join(statesDir(root), 'top.yaml');
}

/** The state file names the top file assigns to a host, in top-file order, without duplicates. */
export function topStateFiles(root: string, host: HostSpec, facts?: Facts): string[] {
  const file = topStateFilesPath(root);
  if (!existsSync(file)) {
    throw new InputError(
      'STATE_ERROR',
      'no top file: create states/top.yaml (or a Salt states/top.sls) mapping targets to state files',
      {
        file: rel(root, file),
      },
    );
  }
  const doc = parseYaml(readFileSync(file, 'utf8'), rel(root, file));
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError('STATE_ERROR', 'the top file must map targets to lists of state files', {
      file: rel(root, file),
    });
  }
  const names: string[] = [];
  for (const [target, list] of Object.entries(doc as Record<string, unknown>)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new InputError('STATE_ERROR', `target '${target}': expected a list of state file names`, {
        file: rel(root, file),
        line: lineOf(doc as object, target),
      });
    }
    if (matchesTarget(target, host, facts, { file: rel(root, file), line: lineOf(doc as object, target) }))
      for (const n of list as string[]) if (!names.includes(n)) names.push(n);
  }
  return names;
}

/** Whether a top-file target names the host; a malformed target ('a,,b') is an error of the top file. */
function matchesTarget(
  target: string,
  host: HostSpec,
  facts: Facts | undefined,
  where: { file: string; line?: number },
): boolean {
  try {
    return targetMatchesHost(target, host, facts);
  } catch (err) {
    if (!(err instanceof OrchError)) throw err;
    throw new InputError(err.code, `top-file target: ${err.message}`, where, { cause: err });
  }
}

/** `postgres.primary` -> states/postgres/primary.yaml (or .yml, a directory's init.yaml, Salt's .sls/init.sls). */
export function stateFilePath(root: string, name: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) {
    throw new InputError(
      'STATE_ERROR',
      `'${name}' is not a state file name (letters, digits, _ and -, dots for folders)`,
    );
  }
  const base = path.join(statesDir(root), ...name.split('.'));
  const candidates = [`${base}.yaml`, `${base}.yml`, path.join(base, 'init.yaml')];
  for (const candidate of [...candidates, `${base}.sls`, path.join(base, 'init.sls')]) {
    if (!existsSync(candidate)) continue;
    // A symlink in states/ must not lead out of it (same rule as the template loader).
    const real = realpathSync(candidate);
    if (!isInside(realpathSync(statesDir(root)), real)) {
      throw new InputError(
        'STATE_ERROR',
        `state file '${name}' resolves outside states/ (to ${real}); refused`,
      );
    }
    return candidate;
  }
  throw new InputError(
    'STATE_ERROR',
    `state file '${name}' not found (looked for ${rel(root, base)}.yaml and ${rel(root, base)}.sls)`,
  );
}

/** The bytes of templates/<name> (else states/<name>), confined to those directories like the template loader. */
function readSourceFile(root: string, name: string): Buffer | undefined {
  for (const dir of ['templates', 'states'].map((d) => path.join(root, d))) {
    const file = path.resolve(dir, name);
    if (!existsSync(file)) continue;
    const real = realpathSync(file);
    if (!isInside(realpathSync(dir), real)) return undefined;
    return readFileSync(real);
  }
  return undefined;
}

/**
 * Compile a host's states. Every input error names file, line, state (when one is concerned) and host; all of them
 * are reported at once: one error is thrown as it is, several as an InputErrors.
 */
export function compileHost(inputs: CompileInputs): CompiledHost {
  const { root, env, host, facts, pillar } = inputs;
  const renderCtx = buildRenderContext({ host: host.name, pillar, facts, vars: host.vars });
  const ctx: StateContext = {
    host,
    facts,
    pillar,
    forceRebuild: inputs.forceRebuild === true,
    ...(inputs.runHosts ? { runHosts: inputs.runHosts } : {}),
    renderTemplate: (name, extra = {}) =>
      renderTemplate(env, name, { ...renderCtx, ...extra }, { file: `templates/${name}`, host: host.name }),
    readSource: (name) => readSourceFile(root, name),
  };
  const problems: InputError[] = [];
  const collect = (err: unknown) => problems.push(forHost(err, host));
  // A Salt tree (.sls files, states/top.sls) is translated by src/salt/ into the same declarations.
  const salt: SaltRun = { root, env, host, facts, pillar, saltenv: inputs.saltenv, baseCtx: renderCtx };

  const decls: StateDecl[] = [];
  const loaded = new Set<string>();
  const load = (name: string) => {
    if (loaded.has(name)) return;
    loaded.add(name);
    const file = stateFilePath(root, name);
    const display = rel(root, file);
    let doc: unknown;
    let lines = lineOf;
    if (file.endsWith('.sls')) {
      const sls = compileSls(salt, file, display, name);
      inputs.onRendered?.(display, sls.text);
      for (const e of findingErrors(sls.findings, host.name)) collect(e);
      doc = sls.doc;
      lines = sls.lineOf;
    } else {
      const text = renderString(env, readFileSync(file, 'utf8'), renderCtx, {
        file: display,
        host: host.name,
      });
      inputs.onRendered?.(display, text);
      doc = parseYaml(text, display);
    }
    const { include, decls: own } = declsFromDocument(doc, display, lines);
    for (const inc of include) {
      try {
        load(inc);
      } catch (err) {
        // A bad include names the file that includes it and the host.
        if (err instanceof InputError && err.file === undefined) {
          collect(
            new InputError(
              err.code,
              `include '${inc}': ${err.message} [host ${host.name}]`,
              { file: display, line: lines(doc as object, 'include'), host: host.name },
              { cause: err },
            ),
          );
        } else collect(err);
      }
    }
    decls.push(...own);
  };
  let names: string[] = [];
  try {
    names = inputs.only ?? saltTopFiles(salt) ?? topStateFiles(root, host, inputs.facts);
  } catch (err) {
    throw forHost(err, host);
  }
  for (const name of names) {
    try {
      load(name);
    } catch (err) {
      collect(err);
    }
  }
  // A state file that did not load leaves requisites dangling: ordering would only repeat its errors.
  if (problems.length) throw compileErrors(problems);

  problems.push(...duplicateErrors(decls, host));
  let planned: PlannedState[] = [];
  try {
    planned = planOrder(decls);
  } catch (err) {
    collect(err);
  }
  const states: CompiledState[] = [];
  for (const p of planned) {
    try {
      states.push(compileOne(p, ctx, host));
    } catch (err) {
      collect(err);
    }
  }
  if (problems.length) throw compileErrors(problems);
  return { host, facts, pillar, ctx, states };
}

/** A Salt tree's top.sls assignments, when the project has no states/top.yaml of orch's own. */
function saltTopFiles(salt: SaltRun): string[] | undefined {
  return existsSync(topStateFilesPath(salt.root)) ? undefined : saltTopStateFiles(salt);
}

/** The error to throw for a host's compile problems: the one itself, or all of them. */
export function compileErrors(problems: InputError[]): InputError {
  return problems.length === 1 ? problems[0]! : new InputErrors(problems);
}

/**
 * Any error of compiling a host as an input error that names the host (orch's other errors keep their code; an
 * error that is not orch's is a bug and goes on as it is).
 */
export function forHost(err: unknown, host: HostSpec): InputError {
  if (!(err instanceof OrchError)) throw err;
  const file = err instanceof InputError ? err.file : undefined;
  const line = err instanceof InputError ? err.line : undefined;
  const state = err instanceof InputError ? err.state : undefined;
  if (err instanceof InputError && err.message.includes(`host ${host.name}`)) {
    return err.host === host.name
      ? err
      : new InputError(err.code, withoutLoc(err), { file, line, state, host: host.name }, { cause: err });
  }
  return new InputError(
    err.code,
    `${withoutLoc(err)} [host ${host.name}]`,
    { file, line, state, host: host.name },
    { cause: err },
  );
}

/** An error's message without the `file:line: ` an InputError puts in front. */
function withoutLoc(err: OrchError): string {
  if (!(err instanceof InputError) || !err.file) return err.message;
  const loc = `${err.file}${err.line ? `:${err.line}` : ''}: `;
  return err.message.startsWith(loc) ? err.message.slice(loc.length) : err.message;
}

/**
 * An error raised in a file a state reads (its template), told from the state's side too: the template's file and
 * line stay the location, the message adds the state, where it is declared and the host.
 */
function inState(err: InputError, d: StateDecl, host: HostSpec): InputError {
  const text = withoutLoc(err);
  const declared = `${d.file}${d.line ? `:${d.line}` : ''}`;
  const hostNote = text.includes(`host ${host.name}`) ? '' : ` [host ${host.name}]`;
  return new InputError(
    err.code,
    `state '${d.id}' ${d.fn} (${declared}): ${text}${hostNote}`,
    { file: err.file, line: err.line, state: d.id, host: host.name },
    { cause: err },
  );
}

/** One error per state declared a second time. */
function duplicateErrors(decls: StateDecl[], host: HostSpec): InputError[] {
  const seen = new Map<string, StateDecl>();
  const errors: InputError[] = [];
  for (const d of decls) {
    const key = `${d.module}\u0000${d.id}`;
    const prev = seen.get(key);
    if (prev) {
      errors.push(
        new InputError(
          'STATE_ERROR',
          `state '${d.id}' (${d.module}) is declared twice: here and at ${prev.file}${prev.line ? `:${prev.line}` : ''} [host ${host.name}]`,
          { file: d.file, line: d.line, state: d.id, host: host.name },
        ),
      );
    } else seen.set(key, d);
  }
  return errors;
}

/** The first string holding a NUL byte in a state's arguments: its key path ('' for the top) and value, or null. */
function nulPath(v: unknown, at = ''): { at: string; value: string } | null {
  if (typeof v === 'string') return v.includes('\0') ? { at, value: v } : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = nulPath(v[i], at ? `${at}.${i}` : String(i));
      if (r !== null) return r;
    }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const key = k.includes('\0') ? k.replace(/\0/g, '\\0') : k;
      if (key !== k) return { at: at ? `${at}.${key}` : key, value: k };
      const r = nulPath(x, at ? `${at}.${k}` : k);
      if (r !== null) return r;
    }
  }
  return null;
}

function compileOne(p: PlannedState, ctx: StateContext, host: HostSpec): CompiledState {
  const d = p.decl;
  const where = { file: d.file, line: d.line, state: d.id, host: host.name };
  const impl = lookupState(d.fn);
  if (!impl) {
    const known = stateNames().filter((n) => n.startsWith(`${d.module}.`));
    const hint = known.length
      ? ` (known: ${known.join(', ')})`
      : ` (known modules: ${[...new Set(stateNames().map((n) => n.split('.')[0]))].join(', ')})`;
    throw new InputError(
      'STATE_ERROR',
      `state '${d.id}': unknown state function '${d.fn}'${hint} [host ${host.name}]`,
      where,
    );
  }
  const nul = nulPath(d.args);
  if (nul !== null) {
    // No shell word, path or name can hold a NUL (the shells drop it: `/e\0tc` would act on /etc).
    const keys = pillarKeysOf(ctx.pillar, nul.value);
    const from = keys.length ? ` (from pillar key '${keys.join("', '")}')` : '';
    throw new InputError(
      'STATE_ERROR',
      `state '${d.id}' ${d.fn}: ${nul.at || 'argument'}: contains a NUL byte${from} [host ${host.name}]`,
      where,
    );
  }
  const parsed = impl.args.safeParse(d.args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
    const unknownKeys =
      issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.join(', ')})` : '';
    // A refused mapping key: zod's own message is "Invalid key in record"; the key's rule says why.
    const keyIssue =
      issue.code === 'invalid_key' ? (issue as { issues?: { message: string }[] }).issues?.[0] : undefined;
    const message = keyIssue ? `not a valid key: ${keyIssue.message}` : issue.message;
    throw new InputError(
      'STATE_ERROR',
      `state '${d.id}' ${d.fn}: ${at}${message}${unknownKeys} [host ${host.name}]`,
      where,
    );
  }
  const args = parsed.data as Record<string, unknown>;
  const badOwner = badOsAccountArg(args);
  if (badOwner) {
    const shown = showValue(badOwner.value, isSecretValue(badOwner.value, []));
    throw new InputError(
      'STATE_ERROR',
      `state '${d.id}' ${d.fn}: ${badOwner.key}: ${shown} must be a user or group name (letters, digits, _ . -, starting with a letter or _) or a numeric id [host ${host.name}]`,
      where,
    );
  }
  let prepared: unknown;
  try {
    prepared = impl.prepare ? impl.prepare(args, ctx) : undefined;
  } catch (err) {
    if (err instanceof InputError && err.file) throw inState(err, d, host);
    if (err instanceof OrchError) {
      // A module's own check: the state, where it is declared and the host make it findable.
      throw new InputError(err.code, `state '${d.id}' ${d.fn}: ${err.message} [host ${host.name}]`, where, {
        cause: err,
      });
    }
    throw new InputError(
      'STATE_ERROR',
      `state '${d.id}' ${d.fn}: ${(err as Error).message} [host ${host.name}]`,
      where,
      {
        cause: err,
      },
    );
  }
  return { ...p, impl, args, prepared };
}
