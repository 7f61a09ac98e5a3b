// YAML loading for every file a user writes (inventory, pillar, states): js-yaml with the YAML 1.2 core schema,
// duplicate keys rejected, errors as InputError with a 1-based line, and a record of the line where each mapping,
// sequence and mapping key started so later validation can point at it. It reads files; it never writes them.
//
// Core schema facts worth knowing: `yes`/`no`/`on`/`off` stay strings; `0644` is the integer 644 and `0o644` the
// integer 420. File modes must therefore be written as quoted strings ('0644'); mode validators reject numbers.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { InputError } from '../errors.js';
import { SecretRef } from '../secrets/ref.js';

const objectLines = new WeakMap<object, number>();
const keyLines = new WeakMap<object, Map<string, number>>();
const secretFiles = new WeakMap<SecretRef, string>();

const secretType = new yaml.Type('!secret', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && data.trim().length > 0,
  construct: (data: string) => new SecretRef(data.trim()),
});

const PLAIN_SCHEMA = yaml.CORE_SCHEMA;
const SECRET_SCHEMA = yaml.CORE_SCHEMA.extend([secretType]);

export interface ParseOptions {
  /** Allow `!secret <ciphertext>` values (pillar files only). */
  secrets?: boolean;
}

interface Frame {
  line: number;
  children: { result: unknown; line: number }[];
}

/** Parse one YAML document; `file` is the name used in error messages. Empty documents give null. */
export function parseYaml(text: string, file: string, opts: ParseOptions = {}): unknown {
  const stack: Frame[] = [];
  const seenSecrets: SecretRef[] = [];
  // js-yaml calls the listener when it starts and finishes each node; at 'open' the position is at the node
  // (for a mapping value: right after its key), so the line is the one a user would look at.
  const listener = (event: 'open' | 'close', state: yaml.State): void => {
    if (event === 'open') {
      stack.push({ line: state.line + 1, children: [] });
      return;
    }
    const frame = stack.pop();
    if (!frame) return;
    const result: unknown = (state as unknown as { result: unknown }).result;
    if (result instanceof SecretRef) seenSecrets.push(result);
    else if (result !== null && typeof result === 'object' && !objectLines.has(result)) {
      objectLines.set(result, frame.line);
      if (Array.isArray(result)) recordItemLines(result, frame.children);
      else recordKeyLines(result, frame.children);
    }
    stack[stack.length - 1]?.children.push({ result, line: frame.line });
  };
  let doc: unknown;
  try {
    doc = yaml.load(text, {
      schema: opts.secrets ? SECRET_SCHEMA : PLAIN_SCHEMA,
      filename: file,
      listener,
    });
  } catch (err) {
    throw yamlError(err, file);
  }
  for (const ref of seenSecrets) secretFiles.set(ref, file);
  return doc ?? null;
}

/** Read and parse a YAML file; `display` (default: the path) is the name used in error messages. */
export function loadYamlFile(file: string, opts: ParseOptions & { display?: string } = {}): unknown {
  const display = opts.display ?? file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new InputError('YAML_ERROR', why, { file: display }, { cause: err });
  }
  return parseYaml(text, display, opts);
}

/** 1-based line where a parsed mapping or sequence started; with `key` (or list index), the line of that entry. */
export function lineOf(node: object, key?: string | number): number | undefined {
  if (key !== undefined) {
    const line = keyLines.get(node)?.get(String(key));
    if (line !== undefined) return line;
  }
  return objectLines.get(node);
}

/** The file a SecretRef was parsed from (for error messages of the secrets store). */
export function secretSource(ref: SecretRef): string | undefined {
  return secretFiles.get(ref);
}

// Children of a mapping node arrive as key, value, key, value... (merge keys included).
function recordKeyLines(mapping: object, children: Frame['children']): void {
  const lines = new Map<string, number>();
  for (let i = 0; i + 1 < children.length; i += 2) {
    const key = children[i]!.result;
    if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') {
      if (!lines.has(String(key))) lines.set(String(key), children[i]!.line);
    }
  }
  if (lines.size > 0) keyLines.set(mapping, lines);
}

function recordItemLines(list: unknown[], children: Frame['children']): void {
  if (children.length !== list.length) return;
  keyLines.set(list, new Map(children.map((c, i) => [String(i), c.line])));
}

function yamlError(err: unknown, file: string): InputError {
  if (!(err instanceof yaml.YAMLException)) {
    return new InputError('YAML_ERROR', String((err as Error)?.message ?? err), { file }, { cause: err });
  }
  const mark = (err as yaml.YAMLException & { mark?: { line?: number; column?: number } }).mark;
  const line = typeof mark?.line === 'number' ? mark.line + 1 : undefined;
  let reason = err.reason || err.message;
  if (/unknown tag !<!secret>/.test(reason)) reason = '!secret values are only allowed in pillar files';
  const column = typeof mark?.column === 'number' ? ` (column ${mark.column + 1})` : '';
  return new InputError('YAML_ERROR', `${reason}${column}`, { file, line }, { cause: err });
}
