// The nunjucks filters orch adds. Quoting goes through src/shell/quote.ts and src/sql/quote.ts (the only quoting
// code); these filters only check their input and delegate. A filter that gets the wrong kind of value throws,
// so a template error is raised instead of a wrong file being written.
import yaml from 'js-yaml';
import type nunjucks from 'nunjucks';
import { shQuote } from '../shell/quote.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { SecretRef } from '../secrets/ref.js';
import { unwrapStrict } from './context.js';

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

/** Escape one .pgpass field: backslash and colon get a backslash; newlines cannot be represented. */
export function pgpassFilter(value: unknown): string {
  const text = scalarText(value, 'pgpass');
  if (/[\r\n]/.test(text)) throw new Error('pgpass filter: a .pgpass field cannot contain a newline');
  return text.replace(/[\\:]/g, '\\$&');
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
