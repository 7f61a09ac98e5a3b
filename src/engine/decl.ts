// Turns a parsed state file into state declarations: `id: { module.function: [ {arg: v}, ... ] | {arg: v} }`,
// with requisites and the generic `timeout` split out of the arguments. Knows the YAML shape only; modules validate their own args.
import { InputError } from '../errors.js';

export const REQUISITES = ['require', 'watch', 'onchanges'] as const;
export type RequisiteKind = (typeof REQUISITES)[number];

/** A reference to another state: `{file: /etc/x}` (module + id or name) or a bare id. */
export interface StateRef {
  module?: string;
  target: string;
}

export interface StateDecl {
  id: string;
  /** 'file.managed' */
  fn: string;
  module: string;
  args: Record<string, unknown>;
  requisites: Record<RequisiteKind, StateRef[]>;
  /** `_in` forms, resolved onto their targets by the planner. */
  requisitesIn: Record<RequisiteKind, StateRef[]>;
  /** `timeout:` of any state, in seconds: its check and its apply each end there, as an error. */
  timeout?: number;
  file: string;
  line?: number;
}

type LineOf = (node: object, key?: string | number) => number | undefined;

/** Declarations of one parsed state file (without `include`). */
export function declsFromDocument(
  doc: unknown,
  file: string,
  lineOf: LineOf,
): { include: string[]; decls: StateDecl[] } {
  if (doc === null || doc === undefined) return { include: [], decls: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError('STATE_ERROR', 'a state file must be a mapping of state ids', { file });
  }
  const map = doc as Record<string, unknown>;
  const include = parseInclude(map.include, file, lineOf(map, 'include'));
  const decls: StateDecl[] = [];
  for (const [id, body] of Object.entries(map)) {
    if (id === 'include') continue;
    const line = lineOf(map, id) ?? (body && typeof body === 'object' ? lineOf(body) : undefined);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new InputError(
        'STATE_ERROR',
        `state '${id}': expected a mapping like {module.function: [args]}`,
        {
          file,
          line,
        },
      );
    }
    for (const [fn, rawArgs] of Object.entries(body as Record<string, unknown>)) {
      const fnLine = lineOf(body, fn) ?? line;
      if (!/^[a-z_]+\.[a-z_]+$/.test(fn)) {
        throw new InputError('STATE_ERROR', `state '${id}': '${fn}' is not a module.function name`, {
          file,
          line: fnLine,
        });
      }
      decls.push(makeDecl(id, fn, normalizeArgs(rawArgs, id, fn, file, fnLine), file, fnLine));
    }
  }
  return { include, decls };
}

function parseInclude(value: unknown, file: string, line: number | undefined): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InputError('STATE_ERROR', 'include: expected a list of state file names', { file, line });
  }
  return value as string[];
}

/** Salt writes args as a list of one-key maps; a plain map is accepted too. */
function normalizeArgs(
  raw: unknown,
  id: string,
  fn: string,
  file: string,
  line?: number,
): Record<string, unknown> {
  if (raw === null || raw === undefined) return {};
  if (Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (const item of raw) {
      if (!item || typeof item !== 'object' || Array.isArray(item) || Object.keys(item).length !== 1) {
        throw new InputError(
          'STATE_ERROR',
          `state '${id}' ${fn}: each list item must be a single {arg: value}`,
          {
            file,
            line,
          },
        );
      }
      const [k, v] = Object.entries(item as Record<string, unknown>)[0]!;
      if (k in out) {
        throw new InputError('STATE_ERROR', `state '${id}' ${fn}: argument '${k}' given twice`, {
          file,
          line,
        });
      }
      out[k] = v;
    }
    return out;
  }
  if (typeof raw === 'object') return { ...(raw as Record<string, unknown>) };
  throw new InputError('STATE_ERROR', `state '${id}' ${fn}: arguments must be a list or a mapping`, {
    file,
    line,
  });
}

function makeDecl(
  id: string,
  fn: string,
  args: Record<string, unknown>,
  file: string,
  line?: number,
): StateDecl {
  const requisites = { require: [], watch: [], onchanges: [] } as Record<RequisiteKind, StateRef[]>;
  const requisitesIn = { require: [], watch: [], onchanges: [] } as Record<RequisiteKind, StateRef[]>;
  for (const kind of REQUISITES) {
    for (const [key, bucket] of [
      [kind, requisites],
      [`${kind}_in`, requisitesIn],
    ] as const) {
      if (!(key in args)) continue;
      bucket[kind] = parseRefs(args[key], `${id} ${fn} ${key}`, file, line);
      delete args[key];
    }
  }
  let timeout: number | undefined;
  if ('timeout' in args) {
    timeout = parseTimeout(args.timeout, `state '${id}' ${fn}`, file, line);
    delete args.timeout;
  }
  if (!('name' in args)) args.name = id;
  const decl: StateDecl = { id, fn, module: fn.split('.')[0]!, args, requisites, requisitesIn, file, line };
  if (timeout !== undefined) decl.timeout = timeout;
  return decl;
}

/** A positive number of seconds (at most a day: a longer step is a job for a detached run, not a state). */
function parseTimeout(value: unknown, where: string, file: string, line?: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 86_400) {
    throw new InputError(
      'STATE_ERROR',
      `${where}: timeout must be a number of seconds between 0 and 86400, got ${JSON.stringify(value)}`,
      { file, line },
    );
  }
  return n;
}

function parseRefs(value: unknown, where: string, file: string, line?: number): StateRef[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item === 'string') return { target: item };
    if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length === 1) {
      const [module, target] = Object.entries(item as Record<string, unknown>)[0]!;
      if (typeof target === 'string') return { module, target };
    }
    throw new InputError('STATE_ERROR', `${where}: expected 'id' or {module: id}`, { file, line });
  });
}
