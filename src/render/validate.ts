// Turns zod validation problems in a parsed YAML document into InputErrors that name the file, the line (from
// lineOf) and the dotted key path, e.g. `inventory/hosts.yaml:7: hosts.db1.port: expected a number`.
// It validates values only; it never reads files.
import type { z } from 'zod';
import { InputError, type OrchErrorCode } from '../errors.js';
import { lineOf } from './yaml.js';

type Path = readonly PropertyKey[];

interface Problem {
  path: Path;
  message: string;
}

/** Validate `doc` (parsed from `file`) against `schema`; throws InputError(code) naming file:line: key: problem. */
export function validateDoc<T>(
  schema: z.ZodType<T>,
  doc: unknown,
  file: string,
  code: OrchErrorCode = 'BAD_INPUT',
  basePath: Path = [],
): T {
  const parsed = schema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => describe(issue, doc, basePath));
  const [first, ...rest] = problems.map((p) => locate(p, doc, basePath));
  const more = rest.map((p) => `\n${file}${p.line ? `:${p.line}` : ''}: ${p.text}`).join('');
  throw new InputError(code, `${first!.text}${more}`, { file, line: first!.line }, { cause: parsed.error });
}

/** The dotted form of a key path (list indexes in brackets). */
export function keyPathText(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(top level)';
}

/** The line of the innermost parsed object on `path`, preferring the line of the last key. */
export function lineForPath(doc: unknown, path: Path): number | undefined {
  let node: unknown = doc;
  let best: number | undefined = isObj(doc) ? lineOf(doc) : undefined;
  for (const seg of path) {
    if (!isObj(node)) break;
    const key = typeof seg === 'symbol' ? undefined : seg;
    if (key === undefined) break;
    best = lineOf(node, key) ?? best;
    node = (node as Record<string, unknown>)[String(key)];
    if (isObj(node)) best = lineOf(node) ?? best;
  }
  return best;
}

function locate(p: Problem, doc: unknown, basePath: Path): { text: string; line: number | undefined } {
  return { text: `${keyPathText([...basePath, ...p.path])}: ${p.message}`, line: lineForPath(doc, p.path) };
}

function describe(issue: z.core.$ZodIssue, doc: unknown, basePath: Path, prefix: Path = []): Problem[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_type': {
      if (valueAt(doc, path) === undefined) return [{ path, message: 'is required' }];
      return [{ path, message: `expected ${article(issue.expected)}` }];
    }
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...path, k], message: 'unknown key' }));
    case 'invalid_union': {
      // When exactly one alternative got past its type check, its problems are the useful ones.
      const typed = issue.errors.filter(
        (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      if (typed.length === 1) return typed[0]!.flatMap((i) => describe(i, doc, basePath, path));
      return [{ path, message: issue.message }];
    }
    default:
      return [{ path, message: lowerFirst(issue.message) }];
  }
}

function valueAt(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const seg of path) {
    if (!isObj(node) || typeof seg === 'symbol') return undefined;
    node = (node as Record<string, unknown>)[String(seg)];
  }
  return node;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    record: 'a mapping',
    number: 'a number',
    int: 'an integer',
    string: 'a string',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function isObj(v: unknown): v is object {
  return v !== null && typeof v === 'object';
}
