// The nunjucks filters orch adds. Quoting goes through src/shell/quote.ts and src/sql/quote.ts (the only quoting
// code); these filters only check their input and delegate. A filter that gets the wrong kind of value throws,
// so a template error is raised instead of a wrong file being written.
import yaml from 'js-yaml';
import type nunjucks from 'nunjucks';
import { shQuote } from '../shell/quote.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { SecretRef } from '../secrets/ref.js';
import { unwrapStrict } from './context.js';
import { GrammarViolation, requireOneLine, ValueError } from './grammar.js';
import { hbaAddress, hbaComment, hbaDatabase, hbaMethod, hbaRole, hbaType } from './hba-grammar.js';
import { confValue, pgSettingName } from './pgconf-grammar.js';
import { isSecretValue, pillarKeysOf, showValue } from './provenance.js';

/** What nunjucks passes as `this` to a filter: the render context. */
interface FilterThis {
  ctx?: Record<string, unknown>;
}

/** Quote a value as one /bin/sh word. */
export function shFilter(value: unknown): string {
  return shQuote(scalarText(value, 'sh'));
}

/** Quote a value as a PostgreSQL identifier. */
export function sqlIdentFilter(value: unknown): string {
  return quoteIdent(scalarText(value, 'sql_ident'));
}

/** Quote a value as a PostgreSQL string literal. */
export function sqlLiteralFilter(value: unknown): string {
  return quoteLiteral(scalarText(value, 'sql_literal'));
}

/** JSON text of a value (one line; `indent` spaces when given). */
export function jsonFilter(value: unknown, indent?: number): string {
  const text = JSON.stringify(plainData(value), null, indent);
  if (text === undefined) throw new Error('json filter: value cannot be represented as JSON');
  return text;
}

/** YAML text of a value, without the final newline so it can sit inside a template line. */
export function yamlFilter(value: unknown): string {
  return yaml.dump(plainData(value), { noRefs: true, lineWidth: -1 }).replace(/\n$/, '');
}

/**
 * Escape one .pgpass field: backslash and colon get a backslash, and so does a field that would otherwise read
 * as the `*` wildcard or start a `#` comment line. NUL and line breaks cannot be represented.
 */
export function pgpassField(text: string): string {
  requireOneLine(text, 'a .pgpass field');
  const escaped = text.replace(/[\\:]/g, '\\$&');
  if (escaped === '*') return '\\*';
  return escaped.startsWith('#') ? `\\${escaped}` : escaped;
}

/** A TCP port: an integer 1-65535 (a number, or a string of digits). */
export function portValue(text: string): string {
  const n = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new GrammarViolation('is not a TCP port (an integer 1-65535)');
  return String(n);
}

/**
 * A filter that checks a value against the grammar of where it lands: a GrammarViolation becomes a ValueError
 * naming the pillar key(s) that hold the value (when found) and the value itself unless it is a secret.
 */
export function grammarFilter(name: string, check: (text: string) => string, what: string) {
  return function (this: FilterThis | undefined, value: unknown): string {
    const text = scalarText(value, name);
    try {
      return check(text);
    } catch (err) {
      if (!(err instanceof GrammarViolation)) throw err;
      throw valueError(name, what, text, err.reason, this?.ctx?.pillar);
    }
  };
}

/** The error for `text` refused by filter `name`; names the pillar keys holding it, hides secrets. */
export function valueError(
  name: string,
  what: string,
  text: string,
  reason: string,
  pillar: unknown,
): ValueError {
  const keys = pillar === undefined ? [] : pillarKeysOf(pillar, text);
  const shown = showValue(text, isSecretValue(text, keys));
  const subject = keys.length
    ? `pillar key ${keys.map((k) => `'${k}'`).join(' or ')} (${shown})`
    : `value ${shown}`;
  const why = reason.startsWith(what) ? reason.slice(what.length).trimStart() : reason;
  return new ValueError(`${subject} cannot be ${what}: ${why} (${name} filter)`, keys);
}

export const pgpassFilter = grammarFilter('pgpass', pgpassField, 'a .pgpass field');

/**
 * One postgresql.conf value token: a number stays bare, a boolean is on/off, a string is single-quoted with its
 * quotes and backslashes escaped (so it cannot end the value and start another setting); a newline is refused.
 */
export function pgValueFilter(this: FilterThis | undefined, value: unknown): string {
  const raw = typeof value === 'number' || typeof value === 'boolean' ? value : scalarText(value, 'pg_value');
  try {
    return confValue(raw);
  } catch (err) {
    if (!(err instanceof GrammarViolation)) throw err;
    throw valueError('pg_value', 'a postgresql.conf value', String(raw), err.reason, this?.ctx?.pillar);
  }
}

/** Check an octal file mode written as a string ('0644', '755', '2750'); numbers are refused. */
export function modeFilter(value: unknown): string {
  if (typeof value === 'number') {
    throw new Error(
      `mode filter: got the number ${value}; write file modes as quoted strings like '0644' (YAML reads 0644 as 644)`,
    );
  }
  if (typeof value !== 'string' || !/^[0-7]{3,4}$/.test(value)) {
    throw new Error(`mode filter: '${String(value)}' is not an octal file mode like '0644'`);
  }
  return value;
}

/** Install every orch filter on a nunjucks environment. */
export function registerFilters(env: nunjucks.Environment): void {
  env.addFilter('sh', shFilter);
  env.addFilter('sql_ident', sqlIdentFilter);
  env.addFilter('sql_literal', sqlLiteralFilter);
  env.addFilter('json', jsonFilter);
  env.addFilter('yaml', yamlFilter);
  env.addFilter('pgpass', pgpassFilter);
  env.addFilter('mode', modeFilter);
  env.addFilter('pg_value', pgValueFilter);
  env.addFilter('pg_setting', grammarFilter('pg_setting', pgSettingName, 'a postgresql.conf setting name'));
  env.addFilter('port', grammarFilter('port', portValue, 'a port'));
  env.addFilter('hba_type', grammarFilter('hba_type', hbaType, 'a pg_hba.conf connection type'));
  env.addFilter('hba_database', grammarFilter('hba_database', hbaDatabase, 'a pg_hba.conf database name'));
  env.addFilter('hba_role', grammarFilter('hba_role', hbaRole, 'a pg_hba.conf role name'));
  env.addFilter('hba_address', grammarFilter('hba_address', hbaAddress, 'a pg_hba.conf address'));
  env.addFilter('hba_method', grammarFilter('hba_method', hbaMethod, 'a pg_hba.conf method'));
  env.addFilter('hba_comment', grammarFilter('hba_comment', hbaComment, 'a pg_hba.conf comment'));
}

function scalarText(value: unknown, filter: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (value instanceof SecretRef)
    throw new Error(`${filter} filter: the value is a secret that was not decrypted`);
  const what =
    value === null || value === undefined ? String(value) : Array.isArray(value) ? 'a list' : typeof value;
  throw new Error(`${filter} filter needs a string or number, got ${what}`);
}

// Strict proxies off, SecretRefs shown as '<secret>' (never their ciphertext).
function plainData(value: unknown): unknown {
  const raw = unwrapStrict(value);
  if (raw instanceof SecretRef) return '<secret>';
  if (Array.isArray(raw)) return raw.map(plainData);
  if (raw !== null && typeof raw === 'object' && Object.getPrototypeOf(raw) === Object.prototype) {
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, plainData(v)]));
  }
  return raw;
}
