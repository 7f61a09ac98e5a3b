// Translates what nunjucks throws into orch errors: the file (relative to the project root) and 1-based line of
// the innermost template where it happened, and the host. An OrchError raised inside the template (a missing
// pillar key, an undecrypted secret) keeps its code and message; anything else becomes TEMPLATE_ERROR.
import path from 'node:path';
import { InputError, OrchError } from '../errors.js';
import { ValueError } from './grammar.js';

interface NunjucksError extends Error {
  lineno?: number;
  colno?: number;
  cause?: unknown;
  Update?: unknown;
}

const PATH_LINE = /^\s*\((.*)\)(?: \[Line \d+(?:, Column \d+)?\])?\s*$/;

/** The InputError for an error thrown while rendering for `where.host`. */
export function templateError(err: unknown, where: { file: string; host: string }, root?: string): OrchError {
  const chain: unknown[] = [];
  for (
    let e: unknown = err;
    e !== undefined && e !== null && chain.length < 20;
    e = (e as NunjucksError).cause
  ) {
    chain.push(e);
  }
  const templateErrors = chain.filter(isNunjucksError);
  const original = chain.find((e) => !isNunjucksError(e));
  const innermost = templateErrors[templateErrors.length - 1];
  let line: number | undefined;
  let file = where.file;
  let message = original instanceof Error ? original.message : String(original ?? err);
  if (innermost) {
    // Errors wrapped from a runtime exception carry the 0-based line of the compiled code; errors nunjucks
    // creates itself (parser, undefined output) already carry a 1-based one.
    const raw = innermost.lineno;
    if (typeof raw === 'number') line = innermost.cause !== undefined ? raw + 1 : raw > 0 ? raw : undefined;
    const parsed = splitMessage(innermost.message);
    if (parsed.file && parsed.file !== 'unknown path') file = displayFile(parsed.file, root);
    if (!original) message = parsed.text;
  }
  if (original instanceof InputError) return original;
  // Grammar and template path checks do not know the host; other OrchErrors raised here name it already.
  if (original instanceof ValueError) {
    return new InputError(
      original.code,
      `${original.message} for host ${where.host}`,
      { file, line },
      { cause: original },
    );
  }
  if (original instanceof OrchError) {
    return new InputError(original.code, original.message, { file, line }, { cause: original });
  }
  return new InputError('TEMPLATE_ERROR', `${message} (host ${where.host})`, { file, line }, { cause: err });
}

function isNunjucksError(e: unknown): e is NunjucksError {
  return e instanceof Error && typeof (e as NunjucksError).Update === 'function';
}

// "(outer.j2)\n (inner.j2) [Line 3, Column 5]\n  Error: boom": the last path is where it happened.
function splitMessage(msg: string): { file?: string; text: string } {
  const lines = msg.split('\n');
  let file: string | undefined;
  let i = 0;
  for (; i < lines.length; i++) {
    const m = PATH_LINE.exec(lines[i]!);
    if (!m) break;
    file = m[1];
  }
  const text = lines
    .slice(i)
    .join('\n')
    .trim()
    .replace(/^(Template render error: |Error: )+/, '');
  return { file, text };
}

function displayFile(file: string, root: string | undefined): string {
  if (!root || !path.isAbsolute(file)) return file;
  const rel = path.relative(root, file);
  return rel.startsWith('..') ? file : rel;
}
