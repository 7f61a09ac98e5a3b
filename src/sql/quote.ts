// The only place that quotes SQL identifiers and literals (PostgreSQL rules, standard_conforming_strings on).

/** Quote an identifier: double quotes, embedded double quotes doubled. NUL is refused. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  if (name.includes('\0')) throw new Error('SQL identifier contains NUL');
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a literal as an E'' string so backslashes are unambiguous whatever the server settings. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('SQL literal contains NUL');
  const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "''");
  return escaped.includes('\\') ? `E'${escaped}'` : `'${escaped}'`;
}
