// Text formats pg_make_replica writes besides shell and SQL: libpq conninfo values and postgresql.conf string
// values (recovery.conf for PostgreSQL <= 11), and the grammar of what goes into them: a primary host is one host
// name or IP address (libpq reads a comma list as several hosts and a leading / as a socket directory), a port
// is 1-65535, a role name has no control characters, a slot (and application_name) is [a-z0-9_]{1,63}.
// Pure functions; they never see a password.
import net from 'node:net';
import { hasControlChar } from '../render/grammar.js';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);
/** PostgreSQL's rule for replication slot names (ReplicationSlotValidateName). */
export const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** Why `host` cannot be the primary's address, or undefined: one DNS name or one IPv4/IPv6 address. */
export function hostProblem(host: string): string | undefined {
  if (net.isIP(host) !== 0 && !host.includes('%')) return undefined;
  if (HOST_NAME.test(host)) return undefined;
  return 'is not a host name or IP address (libpq would read commas as a host list and / as a socket directory)';
}

/** Why `port` is not a TCP port, or undefined. */
export function portProblem(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535
    ? undefined
    : 'is not a port (an integer 1-65535)';
}

/** Why `user` cannot be a role name in a conninfo, .pgpass or command line, or undefined. */
export function roleProblem(user: string): string | undefined {
  if (user.length === 0) return 'is empty';
  if (hasControlChar(user)) return 'contains NUL, a newline or another control character';
  if (Buffer.byteLength(user, 'utf8') > 63) return 'is longer than 63 bytes';
  return undefined;
}

/** Why `slot` is not a replication slot name, or undefined. */
export function slotProblem(slot: string): string | undefined {
  return SLOT_NAME.test(slot) ? undefined : 'is not a slot name (1-63 lower-case letters, digits and _)';
}

/** Quote one libpq conninfo value: single quotes, with backslash and single quote backslash-escaped. */
export function conninfoValue(value: string): string {
  if (/[\r\n]/.test(value) || value.includes('\0'))
    throw new Error('a conninfo value cannot contain NUL or a line break');
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
export function recoveryConf(o: {
  host: string;
  port: number;
  user: string;
  slot: string;
  passfile: string;
}): string {
  const problems = [
    ['host', hostProblem(o.host)],
    ['port', portProblem(o.port)],
    ['user', roleProblem(o.user)],
    ['primary_slot_name', slotProblem(o.slot)],
  ].filter(([, p]) => p !== undefined);
  if (problems.length) throw new Error(`recovery.conf: ${problems.map(([k, p]) => `${k} ${p}`).join('; ')}`);
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
