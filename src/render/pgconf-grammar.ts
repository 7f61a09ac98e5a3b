// The postgresql.conf grammar orch writes and accepts from templates (PostgreSQL's guc-file.l, strictly): a line is
// blank, a comment, or exactly one `name = value` with an optional trailing comment. Values from pillar reach a
// template only through the pg_value filter (one quoted or bare token, never a newline), names through pg_setting
// (an identifier, never an include directive), so no value can add a second setting or make the server read
// another file; the rendered text is then parsed line by line with parseConfText as a second check.
import { GrammarViolation, requireOneLine } from './grammar.js';

export type ConfScalar = string | number | boolean;

const NAME = '[A-Za-z_][A-Za-z0-9_$]*(?:\\.[A-Za-z_][A-Za-z0-9_$]*)?';
export const SETTING_NAME = new RegExp(`^${NAME}$`);
/** Directives of the configuration file grammar, not settings: they make the server read another file. */
export const DIRECTIVES = new Set(['include', 'include_dir', 'include_if_exists']);

// A quoted string ('' and \x escapes) or one bare token: a number with an optional unit, an identifier, or an
// unquoted string of the characters the server's lexer allows there.
const QUOTED = "'(?:[^'\\\\\\n]|\\\\.|'')*'";
const BARE = '[A-Za-z0-9_.:/+$-]+';
const LINE = new RegExp(`^[ \\t]*(${NAME})[ \\t]*(?:=[ \\t]*|[ \\t]+)(${QUOTED}|${BARE})[ \\t]*(?:#.*)?$`);

/** A setting name: an identifier (or a two-part custom name), and not an include directive. */
export function pgSettingName(text: string): string {
  if (!SETTING_NAME.test(text)) throw new GrammarViolation('a setting name is an identifier like work_mem');
  if (DIRECTIVES.has(text.toLowerCase()))
    throw new GrammarViolation('include, include_dir and include_if_exists are not settings');
  return text;
}

/** A postgresql.conf value: on/off, a bare number, or a single-quoted string ('' and \\ escaped). */
export function confValue(v: ConfScalar): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new GrammarViolation(`not a finite number: ${v}`);
    // 1e+21 or 1e-7 is no number token of the file grammar; quoted, the server still reads it as a number.
    const text = String(v);
    return /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? text : `'${text}'`;
  }
  requireOneLine(v, 'a postgresql.conf value');
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The text of a value token as the server reads it: quotes and escapes resolved. */
export function unquoteValue(token: string): string {
  if (!token.startsWith("'")) return token;
  let out = '';
  for (let i = 1; i < token.length - 1; i++) {
    const c = token[i]!;
    if (c === '\\') out += token[++i];
    else if (c === "'") out += token[++i];
    else out += c;
  }
  return out;
}

export type ConfLine =
  | { kind: 'other'; text: string }
  | { kind: 'setting' | 'directive'; text: string; name: string; value: string };

/** A line of a rendered file that is not one setting: which line and why. */
export class ConfSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'ConfSyntaxError';
  }
}

/** Parse a whole file strictly; a line that is not blank, a comment or one setting is a ConfSyntaxError. */
export function parseConfText(text: string): ConfLine[] {
  if (text.includes('\0'))
    throw new ConfSyntaxError(text.slice(0, text.indexOf('\0')).split('\n').length, 'NUL');
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.map((line, i) => {
    if (line.includes('\r')) throw new ConfSyntaxError(i + 1, 'a carriage return');
    if (/^[ \t]*(#.*)?$/.test(line)) return { kind: 'other', text: line };
    const m = LINE.exec(line);
    if (!m) throw new ConfSyntaxError(i + 1, `not one "name = value" setting: ${line}`);
    const name = m[1]!.toLowerCase();
    const kind = DIRECTIVES.has(name) ? 'directive' : 'setting';
    return { kind, text: line, name, value: unquoteValue(m[2]!) };
  });
}
