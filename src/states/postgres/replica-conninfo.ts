// Text formats pg_make_replica writes besides shell and SQL: libpq conninfo values and postgresql.conf string
// values (recovery.conf for PostgreSQL <= 11). Pure functions; they never see a password.

/** Quote one libpq conninfo value: single quotes, with backslash and single quote backslash-escaped. */
export function conninfoValue(value: string): string {
  if (value.includes('\0')) throw new Error('conninfo value contains NUL');
  if (/^[A-Za-z0-9_.\-/:@]+$/.test(value)) return value;
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

/** A conninfo string from key/value pairs (keys are fixed by the caller, values quoted). */
export function conninfo(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${k}=${conninfoValue(v)}`).join(' ');
}

/** A postgresql.conf / recovery.conf string value: single-quoted, quote doubled, backslash doubled. */
export function confString(value: string): string {
  if (/[\0\r\n]/.test(value)) throw new Error('a configuration value cannot contain NUL or a line break');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The recovery.conf a PostgreSQL 10/11 standby needs (pg_basebackup -R is not used there). */
export function recoveryConf(o: { host: string; port: number; user: string; slot: string; passfile: string }): string {
  const ci = conninfo([
    ['host', o.host],
    ['port', String(o.port)],
    ['user', o.user],
    ['passfile', o.passfile],
    ['application_name', o.slot],
  ]);
  return [
    "standby_mode = 'on'",
    `primary_conninfo = ${confString(ci)}`,
    `primary_slot_name = ${confString(o.slot)}`,
    "recovery_target_timeline = 'latest'",
    '',
  ].join('\n');
}
