// A parsed Salt sls as orch's state document `{id: {module.function: {arg: value}}}`: every declaration form Salt's
// state compiler accepts (salt/state.py render_state / verify_high), Salt's argument meanings where orch's differ,
// and a finding for each construct orch cannot run. Pure: reading a `salt://` source is the caller's callback.
//
//   id: pkg.installed                    bare function (string body)
//   id: {pkg.installed: []}              function key, list of one-key maps (or a mapping, or nothing)
//   id: {pkg: [installed, {name: x}]}    module key, the function as a string item of the list
//   id: [pkg.installed, {name: x}]       a list body with its function as an item
//   name-as-id                           `name` defaults to the id (orch's own rule too)
import { InputError } from '../errors.js';
import type { Finding } from './findings.js';

export type LineOf = (node: object, key?: string | number) => number | undefined;

/** What the caller reads for a `salt://` source: the text, rendered with Jinja when `template` is jinja. */
export interface SourceRequest {
  url: string;
  template: boolean;
  /** Template variables from the state's `context:` and `defaults:` (context wins). */
  vars: Record<string, unknown>;
  state: string;
  line?: number;
}

export interface TranslateOptions {
  file: string;
  lineOf: LineOf;
  /** The sls name (`postgres.server`), for relative includes. */
  sls: string;
  /** Read a salt:// source; without it (static check) sources are only checked for their scheme. */
  source?: (req: SourceRequest) => string;
  /** Whether a salt:// url exists in the tree (static check). */
  exists?: (url: string) => boolean;
}

export interface Translated {
  doc: Record<string, unknown> | null;
  findings: Finding[];
  /** Lines of the translated document's mappings (the parsed one's lines carried over). */
  lineOf: LineOf;
}

/** Arguments every Salt state takes that orch has no meaning for (salt/state.py STATE_REQUISITE_KEYWORDS etc.). */
const UNSUPPORTED_GLOBAL_ARGS = new Set([
  'order',
  'prereq',
  'prereq_in',
  'onfail',
  'onfail_in',
  'onfail_any',
  'onfail_all',
  'onchanges_any',
  'require_any',
  'use',
  'use_in',
  'listen',
  'listen_in',
  'failhard',
  'reload_modules',
  'reload_pillar',
  'reload_grains',
  'retry',
  'parallel',
  'check_cmd',
  'fire_event',
  'saltenv',
  'runas_password',
]);
const REQUISITE_ARGS = ['require', 'require_in', 'watch', 'watch_in', 'onchanges', 'onchanges_in'];
const MODE_ARGS = ['mode', 'dir_mode', 'file_mode'];
/** Salt's top-level sls keys orch has no meaning for. */
const UNSUPPORTED_TOP_KEYS = new Set(['extend', 'exclude']);

/** Translate one parsed Salt sls. */
export function translateSls(doc: unknown, opts: TranslateOptions): Translated {
  const lines = new WeakMap<object, Map<string, number>>();
  const mark = (node: object, key: string, line: number | undefined) => {
    if (line === undefined) return;
    const m = lines.get(node) ?? new Map<string, number>();
    m.set(key, line);
    lines.set(node, m);
  };
  const lineOf: LineOf = (node, key) =>
    (key !== undefined ? lines.get(node)?.get(String(key)) : undefined) ?? opts.lineOf(node, key);
  const findings: Finding[] = [];
  if (doc === null || doc === undefined) return { doc: null, findings, lineOf };
  const { file } = opts;
  if (!isMap(doc)) {
    throw new InputError('STATE_ERROR', 'a Salt sls must be a mapping of state ids', { file });
  }
  const out: Record<string, unknown> = {};
  for (const [id, body] of Object.entries(doc)) {
    const line = opts.lineOf(doc, id);
    if (id === 'include') {
      out.include = includes(body, opts, line, findings);
      mark(out, 'include', line);
      continue;
    }
    if (UNSUPPORTED_TOP_KEYS.has(id)) {
      findings.push({ file, line, construct: id, message: `orch does not run Salt's ${id}: declarations` });
      continue;
    }
    const fns = functionsOf(id, body, opts, line);
    const decl: Record<string, unknown> = {};
    for (const { fn, args, line: fnLine } of fns) {
      if (fn in decl) {
        throw new InputError('STATE_ERROR', `state '${id}': ${fn} is declared twice in this id`, {
          file,
          line: fnLine,
        });
      }
      decl[fn] = saltArgs(id, fn, args, opts, fnLine, findings);
      mark(decl, fn, fnLine);
    }
    out[id] = decl;
    mark(out, id, line);
  }
  return { doc: out, findings, lineOf };
}

function includes(
  body: unknown,
  opts: TranslateOptions,
  line: number | undefined,
  findings: Finding[],
): string[] {
  const list = Array.isArray(body) ? (body as unknown[]) : [body];
  const names: string[] = [];
  for (const item of list) {
    if (typeof item === 'string') names.push(relativeSls(item, opts.sls));
    else
      findings.push({
        file: opts.file,
        line,
        construct: 'include with options',
        message: `${JSON.stringify(item)}: orch includes sls names only (no saltenv or key options)`,
      });
  }
  return names;
}

/** `.child` / `..sibling` relative to the including sls (Salt's relative includes). */
export function relativeSls(name: string, current: string): string {
  const m = /^(\.+)(.*)$/.exec(name);
  if (!m) return name;
  const parts = current.split('.');
  const up = m[1]!.length;
  return [...parts.slice(0, Math.max(0, parts.length - up + 1)), m[2]!].filter(Boolean).join('.');
}

interface FnDecl {
  fn: string;
  args: unknown[] | Record<string, unknown> | null;
  line?: number;
}

/** The functions one state id declares, in every form Salt accepts. */
function functionsOf(id: string, body: unknown, opts: TranslateOptions, line: number | undefined): FnDecl[] {
  const { file } = opts;
  if (typeof body === 'string') {
    if (!/^\w+\.\w+$/.test(body)) {
      throw new InputError('STATE_ERROR', `state '${id}': '${body}' is not a module.function name`, {
        file,
        line,
      });
    }
    return [{ fn: body, args: null, line }];
  }
  if (Array.isArray(body)) {
    const fnItems = body.filter((x): x is string => typeof x === 'string');
    if (fnItems.length !== 1 || !/^\w+\.\w+$/.test(fnItems[0]!)) {
      throw new InputError(
        'STATE_ERROR',
        `state '${id}': a list body needs exactly one module.function item (Salt rejects '${fnItems.join("', '") || 'none'}'; write file.managed, or file: [managed, ...])`,
        { file, line },
      );
    }
    return [{ fn: fnItems[0]!, args: body.filter((x) => typeof x !== 'string'), line }];
  }
  if (!isMap(body)) {
    throw new InputError('STATE_ERROR', `state '${id}': expected a mapping like {module.function: [args]}`, {
      file,
      line,
    });
  }
  const fns: FnDecl[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('__')) continue; // __sls__, __env__: Salt's own bookkeeping keys
    const keyLine = opts.lineOf(body, key) ?? line;
    if (key.includes('.')) {
      fns.push({ fn: key, args: value as FnDecl['args'], line: keyLine });
      continue;
    }
    // `pkg: [installed, {name: x}]`: the function is the list's one string item.
    const items = Array.isArray(value) ? (value as unknown[]) : value === null ? [] : [value];
    const names = items.filter((x): x is string => typeof x === 'string');
    if (names.length !== 1) {
      throw new InputError(
        'STATE_ERROR',
        `state '${id}': module '${key}' needs exactly one function in its list (like ${key}: [installed]), found ${names.length}`,
        { file, line: keyLine },
      );
    }
    fns.push({ fn: `${key}.${names[0]}`, args: items.filter((x) => typeof x !== 'string'), line: keyLine });
  }
  return fns;
}

/** Salt's arguments of one function as orch's: list of one-key maps merged, Salt meanings applied. */
function saltArgs(
  id: string,
  fn: string,
  raw: FnDecl['args'],
  opts: TranslateOptions,
  line: number | undefined,
  findings: Finding[],
): Record<string, unknown> {
  const { file } = opts;
  const args: Record<string, unknown> = {};
  const items = raw === null || raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const item of items) {
    if (!isMap(item)) {
      throw new InputError(
        'STATE_ERROR',
        `state '${id}' ${fn}: each argument must be a single {arg: value}`,
        {
          file,
          line,
        },
      );
    }
    for (const [k, v] of Object.entries(item)) {
      if (k in args) {
        throw new InputError('STATE_ERROR', `state '${id}' ${fn}: argument '${k}' given twice`, {
          file,
          line,
        });
      }
      args[k] = v;
    }
  }
  const unsupported = (construct: string, message: string) =>
    findings.push({ file, line, state: id, construct, message });
  for (const k of Object.keys(args)) {
    if (UNSUPPORTED_GLOBAL_ARGS.has(k)) {
      unsupported(
        `argument ${k}`,
        `orch has no ${k} (requisites: require, watch, onchanges and their _in forms)`,
      );
      delete args[k];
    }
  }
  for (const k of REQUISITE_ARGS) {
    if (!(k in args)) continue;
    const refs = Array.isArray(args[k]) ? (args[k] as unknown[]) : [args[k]];
    for (const ref of refs) {
      if (isMap(ref) && 'sls' in ref) unsupported(`${k}: sls`, 'requisites on a whole sls are not supported');
    }
  }
  // Salt's YAML loader reads 0750 as 750 and states take the digits as octal (salt.utils.files.normalize_mode).
  for (const k of MODE_ARGS) {
    if (typeof args[k] === 'number' && Number.isInteger(args[k])) args[k] = String(args[k]).padStart(4, '0');
  }
  if ('names' in args && !fn.startsWith('pkg.')) {
    unsupported('argument names', `orch expands names only for pkg states; declare one ${fn} per name`);
    delete args.names;
  }
  if (fn === 'pkg.installed' || fn === 'pkg.removed' || fn === 'pkg.purged') pkgArgs(args, unsupported);
  if (fn === 'file.managed') fileManaged(id, args, opts, line, unsupported);
  if (fn === 'cmd.script') cmdScript(id, args, opts, line, unsupported);
  return args;
}

function pkgArgs(args: Record<string, unknown>, unsupported: (c: string, m: string) => void): void {
  if (!('pkgs' in args)) return;
  const pkgs = Array.isArray(args.pkgs) ? (args.pkgs as unknown[]) : [];
  if (pkgs.every((p) => typeof p === 'string')) args.names = pkgs;
  else unsupported('pkgs with versions', 'orch installs packages by name ({name: version} is not supported)');
  delete args.pkgs;
}

type Unsupported = (construct: string, message: string) => void;

/** The first salt:// source of a `source` (Salt takes the first of a list that exists). */
function saltSource(value: unknown, opts: TranslateOptions, unsupported: Unsupported): string | undefined {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const urls: string[] = [];
  for (const v of list) {
    const s = isMap(v) ? Object.keys(v)[0] : v; // [{salt://x: hash}] form
    if (typeof s !== 'string') continue;
    if (s.startsWith('salt://')) urls.push(s);
    else
      unsupported(
        `source ${s.split(':')[0]}`,
        `orch reads sources from the state tree (salt://) only, not ${s}`,
      );
  }
  if (urls.length === 0) return undefined;
  return urls.find((u) => opts.exists?.(u) ?? true) ?? urls[0];
}

function templateVars(args: Record<string, unknown>): Record<string, unknown> {
  const vars = {
    ...(isMap(args.defaults) ? args.defaults : {}),
    ...(isMap(args.context) ? args.context : {}),
  };
  delete args.defaults;
  delete args.context;
  return vars;
}

function usesJinja(args: Record<string, unknown>, unsupported: Unsupported): boolean {
  const t = args.template;
  delete args.template;
  if (t === undefined || t === null) return false;
  if (t === 'jinja') return true;
  unsupported(
    `template: ${String(t)}`,
    t === 'jinja2'
      ? "'jinja2' is not a Salt template format (Salt's name is jinja)"
      : `orch renders template: jinja only, not ${String(t)}`,
  );
  return false;
}

function fileManaged(
  id: string,
  args: Record<string, unknown>,
  opts: TranslateOptions,
  line: number | undefined,
  unsupported: Unsupported,
): void {
  const jinja = usesJinja(args, unsupported);
  const vars = templateVars(args);
  // Salt ignores source_hash and skip_verify for salt:// sources; they only matter for remote ones.
  delete args.source_hash;
  delete args.skip_verify;
  if (Array.isArray(args.contents)) args.contents = (args.contents as unknown[]).map(String).join('\n');
  if (args.source === undefined) return;
  const url = saltSource(args.source, opts, unsupported);
  delete args.source;
  if (url === undefined) {
    args.contents = '';
    return;
  }
  args.contents = opts.source ? opts.source({ url, template: jinja, vars, state: id, line }) : '';
}

function cmdScript(
  id: string,
  args: Record<string, unknown>,
  opts: TranslateOptions,
  line: number | undefined,
  unsupported: Unsupported,
): void {
  const jinja = usesJinja(args, unsupported);
  const vars = templateVars(args);
  // Salt: with no source, the name is the script (salt://...) and may carry its arguments after a space.
  let source = args.source;
  if (source === undefined && typeof args.name === 'string' && args.name.startsWith('salt://')) {
    const [url, ...rest] = args.name.split(/\s+/);
    source = url;
    if (rest.length && args.args === undefined) args.args = rest.join(' ');
  }
  if (source === undefined) source = typeof args.name === 'string' ? args.name : id;
  if (typeof source === 'string' && !source.startsWith('salt://') && !String(source).includes('/')) {
    // `id: cmd.script` with neither: Salt would fail to find the script; orch says so the same way.
    unsupported('cmd.script without a source', 'give source: salt://path/to/script');
    delete args.source;
    return;
  }
  const url = saltSource(source, opts, unsupported);
  delete args.source;
  if (url === undefined) return;
  args.contents = opts.source ? opts.source({ url, template: jinja, vars, state: id, line }) : '';
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
