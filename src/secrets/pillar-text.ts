// Finding and replacing `!secret <token>` values in pillar YAML as text, so rewriting a file (rekey, edit)
// changes only the ciphertext tokens and leaves every other byte as it was. A token is one unquoted base64 word
// on the tag's line. The regex scan is cross-checked against a real YAML parse: when they disagree (a quoted or
// block-scalar secret, a `!secret` inside a string) the file is refused rather than half-rewritten.
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { InputError } from '../errors.js';

export interface SecretToken {
  /** The ciphertext, as written after the tag. */
  token: string;
  /** Offset of the `!secret` tag. */
  tagStart: number;
  /** Offsets of the token itself. */
  start: number;
  end: number;
  /** 1-based line of the tag. */
  line: number;
}

const SECRET_RE = /!secret[ \t]+([A-Za-z0-9+/]+={0,2})(?![A-Za-z0-9+/=])/g;

/** Every `!secret <token>` of a YAML text outside comments, in order; cross-checked with a YAML parse. */
export function findSecretTokens(text: string, file?: string): SecretToken[] {
  const found: SecretToken[] = [];
  for (const m of text.matchAll(SECRET_RE)) {
    const tagStart = m.index;
    if (inComment(text, tagStart)) continue;
    const start = tagStart + m[0].length - m[1]!.length;
    found.push({ token: m[1]!, tagStart, start, end: start + m[1]!.length, line: lineAt(text, tagStart) });
  }
  crossCheck(
    text,
    '!secret',
    found.map((t) => ({ at: t.tagStart, value: t.token })),
    'unsupported !secret value: write each as `!secret <base64>` on one line, unquoted (as printed by `orch secrets encrypt`)',
    file,
    (v) => (typeof v === 'string' ? v.trim() : v),
  );
  return found;
}

/** True when the text holds nunjucks syntax: such a pillar file is only YAML after rendering. */
export function hasTemplateSyntax(text: string): boolean {
  return /\{[{%#]/.test(text);
}

/**
 * Make sure a text scan found every node with the tag: each occurrence of the tag outside comments must have been
 * accepted by the scan, and, for plain YAML files, a real parse must see the same values. Nunjucks pillar files
 * (`{% if %}` branches may repeat keys) are not parsed; the occurrence check still applies to them.
 */
export function crossCheck(
  text: string,
  tag: string,
  found: readonly { at: number; value: unknown }[],
  problem: string,
  file?: string,
  normalize: (v: unknown) => unknown = (v) => v,
): void {
  const loose = new RegExp(`${tag}(?![A-Za-z0-9_-])`, 'g');
  const accepted = found.map((f) => f.at);
  const fail = () => {
    throw new InputError('SECRET_ERROR', problem, { file, line: culpritLine(text, loose, accepted) });
  };
  const ok = new Set(accepted);
  for (const m of text.matchAll(loose)) if (!inComment(text, m.index) && !ok.has(m.index)) fail();
  if (hasTemplateSyntax(text)) return;
  const parsed = taggedValues(text, tag, file).map(normalize);
  if (
    !sameMultiset(
      found.map((f) => f.value),
      parsed,
    )
  )
    fail();
}

/** Replace spans of text (non-overlapping, any order) by new strings. */
export function replaceSpans(
  text: string,
  spans: readonly { start: number; end: number; text: string }[],
): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const s of sorted) {
    if (s.start < pos) throw new Error('overlapping replacements');
    out += text.slice(pos, s.start) + s.text;
    pos = s.end;
  }
  return out + text.slice(pos);
}

/** A node carrying the tag being looked for; wrapping lets the parsed tree be searched for it. */
class Tagged {
  constructor(readonly value: unknown) {}
}

/**
 * The values of every node with the given local tag, from a real YAML parse (1.2 core schema; any other local tag
 * is accepted and ignored). Order is not document order: compare as multisets. Throws YAML_ERROR with file:line.
 */
export function taggedValues(text: string, tag: string, file?: string): unknown[] {
  // js-yaml may construct a node more than once while it backtracks over implicit keys, so the values are
  // collected from the finished tree rather than counted in construct().
  const wrap = (kind: 'scalar' | 'sequence' | 'mapping') =>
    new yaml.Type(tag, { kind, construct: (data: unknown) => new Tagged(data) });
  const anyLocal = (kind: 'scalar' | 'sequence' | 'mapping') =>
    new yaml.Type('!', { kind, multi: true, construct: (data: unknown) => data });
  const schema = yaml.CORE_SCHEMA.extend([
    wrap('scalar'),
    wrap('sequence'),
    wrap('mapping'),
    anyLocal('scalar'),
    anyLocal('sequence'),
    anyLocal('mapping'),
  ]);
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { schema, filename: file });
  } catch (err) {
    const line = (err as { mark?: { line?: number } }).mark?.line;
    // Only the reason: js-yaml's full message quotes the source lines, which may hold secrets.
    const reason = (err as { reason?: string }).reason ?? 'invalid YAML';
    throw new InputError('YAML_ERROR', reason, { file, line: line === undefined ? undefined : line + 1 });
  }
  const values: unknown[] = [];
  const seen = new Set<object>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (node instanceof Tagged) values.push(node.value);
    else for (const v of Object.values(node)) walk(v);
  };
  docs.forEach(walk);
  return values;
}

/** True when two lists hold the same values, whatever their order. */
export function sameMultiset(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  const key = (v: unknown) => JSON.stringify(v) ?? String(v);
  const sa = a.map(key).sort();
  const sb = b.map(key).sort();
  return sa.every((v, i) => v === sb[i]);
}

/** Every pillar YAML file (pillar/**\/*.yaml|yml) of a project root, absolute, sorted. */
export async function listPillarFiles(root: string): Promise<string[]> {
  const dir = path.join(root, 'pillar');
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: string[] = [];
  for (const rel of entries) {
    if (!/\.ya?ml$/.test(rel)) continue;
    const abs = path.join(dir, rel);
    if ((await stat(abs)).isFile()) files.push(abs);
  }
  return files.sort();
}

/** Replace a file's contents atomically (temp file in the same directory, fsync, rename), keeping its mode. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  let mode = 0o644;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch {
    /* a new file gets 0644 */
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.orch-${process.pid}-${Date.now()}`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
}

/** 1-based line number of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** True when the offset sits after a `#` that starts a comment on its line. */
export function inComment(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /(^|[ \t])#/.test(text.slice(lineStart, offset));
}

/**
 * The line of the first tag occurrence (outside comments) that the strict scan did not accept, else of the
 * first one at all: where a user should look when the scan and the YAML parse disagree.
 */
export function culpritLine(text: string, loose: RegExp, accepted: readonly number[]): number | undefined {
  const ok = new Set(accepted);
  let first: number | undefined;
  for (const m of text.matchAll(loose)) {
    if (inComment(text, m.index)) continue;
    first ??= m.index;
    if (!ok.has(m.index)) return lineAt(text, m.index);
  }
  return first === undefined ? undefined : lineAt(text, first);
}
