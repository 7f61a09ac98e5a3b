// How an error reads to a user: one line per error plus the table's hint, or with --debug the code, the cause
// chain and the stack. Returns text only; the caller masks secrets before printing (the CLI's redactor).
import { eachError, InputError, OrchError } from '../errors.js';
import { codeInfo, ERROR_CODES } from './codes.js';

/** One error as JSON (`-o json`): code, message, where it is, and the hint. */
export interface ErrorJson {
  code: string;
  message: string;
  file?: string;
  line?: number;
  state?: string;
  host?: string;
  hint?: string;
}

/** The code of any thrown value: orch's own, else INTERNAL. */
export function codeOf(err: unknown): string {
  return err instanceof OrchError ? err.code : 'INTERNAL';
}

/** The hint for an error's code (an error that is not orch's is an internal error). */
export function hintFor(err: unknown): string {
  return (codeInfo(codeOf(err)) ?? ERROR_CODES.INTERNAL).hint;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Each single error of err (all of an InputErrors) as JSON. */
export function errorsJson(err: unknown): ErrorJson[] {
  return eachError(err).map((e) => {
    const j: ErrorJson = { code: codeOf(e), message: messageOf(e) };
    if (e instanceof InputError) {
      if (e.file !== undefined) j.file = e.file;
      if (e.line !== undefined) j.line = e.line;
      if (e.state !== undefined) j.state = e.state;
      if (e.host !== undefined) j.host = e.host;
    }
    j.hint = hintFor(e);
    return j;
  });
}

/**
 * Lines describing err, without the `orch: ` prefix. Plain: each error's message, then one `hint:` line per code.
 * Debug: each error as `[CODE] message`, its cause chain (`caused by: ...`) and its stack.
 */
export function describeError(err: unknown, opts: { debug?: boolean } = {}): string[] {
  const errors = eachError(err);
  const lines: string[] = [];
  for (const e of errors) {
    if (!opts.debug) {
      lines.push(...messageOf(e).split('\n'));
      continue;
    }
    lines.push(`[${codeOf(e)}] ${messageOf(e)}`);
    for (const cause of causeChain(e)) lines.push(`  caused by: ${causeLine(cause)}`);
    const stack = e instanceof Error && e.stack ? e.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
    if (stack.length) lines.push('  stack:', ...stack.map((l) => `    ${l.trim()}`));
  }
  const hints = [...new Set(errors.map(hintFor))];
  for (const h of hints) lines.push(`hint: ${h}`);
  return lines;
}

/** The causes below err, nearest first; stops at a cycle and after 10. */
export function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>([err]);
  let cur = err instanceof Error ? err.cause : undefined;
  while (cur !== undefined && !seen.has(cur) && chain.length < 10) {
    chain.push(cur);
    seen.add(cur);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return chain;
}

function causeLine(cause: unknown): string {
  if (cause instanceof OrchError) return `[${cause.code}] ${cause.message}`;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${cause.name}${typeof code === 'string' ? ` ${code}` : ''}: ${cause.message}`;
  }
  return String(cause);
}
