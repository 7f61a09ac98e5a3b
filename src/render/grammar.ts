// What a value must not contain wherever it lands in a text file orch writes, and the error a grammar check
// raises. A GrammarViolation carries only the reason; the filter that caught it adds which value (never a
// secret's text), which pillar key held it, and errors.ts adds the file, line and host.
import { OrchError } from '../errors.js';

/** A value that the grammar of its destination cannot hold literally. */
export class GrammarViolation extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'GrammarViolation';
  }
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 controls, DEL and the C1 block: none of them belong in a name, address or one-line setting.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** True when the text holds NUL, a newline or any other control character. */
export function hasControlChar(text: string): boolean {
  return CONTROL.test(text);
}

/** Refuse NUL, line breaks, other control characters and text that is not well-formed UTF-16 (lone surrogates). */
export function requirePrintable(text: string, what: string): void {
  if (text.includes('\0')) throw new GrammarViolation(`${what} cannot contain NUL`);
  if (/[\r\n]/.test(text)) throw new GrammarViolation(`${what} cannot contain a newline`);
  if (CONTROL.test(text)) throw new GrammarViolation(`${what} cannot contain control characters`);
  if (LONE_SURROGATE.test(text)) throw new GrammarViolation(`${what} is not valid Unicode (lone surrogate)`);
}

/** Refuse NUL, line breaks and lone surrogates (text that stays on one line of a file). */
export function requireOneLine(text: string, what: string): void {
  if (text.includes('\0')) throw new GrammarViolation(`${what} cannot contain NUL`);
  if (/[\r\n\u2028\u2029]/.test(text)) throw new GrammarViolation(`${what} cannot contain a newline`);
  if (LONE_SURROGATE.test(text)) throw new GrammarViolation(`${what} is not valid Unicode (lone surrogate)`);
}

/**
 * A rejected value as a compile error: what it is (pillar key or value), why it cannot go there. errors.ts adds
 * the template file, line and host. The message never holds a secret's text.
 */
export class ValueError extends OrchError {
  constructor(
    message: string,
    readonly keys: readonly string[],
  ) {
    super('BAD_INPUT', message);
  }
}
