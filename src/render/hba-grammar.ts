// The pg_hba.conf column grammar (PostgreSQL 10-17), as the server tokenizes it: fields are split on blanks, lists
// on commas, `#` starts a comment, a line ending in `\` continues on the next one (even a comment line), a
// double-quoted token keeps blanks, commas and `#` and loses keyword meaning. Unquoted, `all`, `sameuser`,
// `samerole`, `samegroup`, `replication` are keywords, `+name` is group membership, `@file` includes a file and
// (16+) `/re` is a regular expression. These functions turn one literal value into exactly one token that means
// that value and nothing else, or throw a GrammarViolation. Pure; used by the hba_* filters and postgres.hba.
import net from 'node:net';
import { GrammarViolation, requirePrintable } from './grammar.js';

export const HBA_TYPES = ['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'] as const;
export const HBA_METHODS = [
  'trust',
  'reject',
  'scram-sha-256',
  'md5',
  'password',
  'gss',
  'sspi',
  'ident',
  'peer',
  'pam',
  'ldap',
  'radius',
  'cert',
  'bsd',
] as const;

/** Words with a meaning of their own in the database column (and `all` in the user column). */
export const DATABASE_KEYWORDS = ['all', 'sameuser', 'samerole', 'samegroup', 'replication'] as const;
export const USER_KEYWORDS = ['all'] as const;
export const ADDRESS_KEYWORDS = ['all', 'samehost', 'samenet'] as const;

/** PostgreSQL truncates names to NAMEDATALEN-1 bytes; a longer name would match a different role. */
const NAME_MAX_BYTES = 63;
/** Written bare: nothing in it the tokenizer treats specially. */
const BARE = /^[A-Za-z0-9_][A-Za-z0-9_.$@-]*$/;

/**
 * One literal name as a token. `quoteBlanks` (postgres.hba's entry lists, where each list item is one name) writes
 * a name with blanks, commas or # double-quoted; the template filters refuse such names, because a pillar value
 * holding them is far more likely an attempt to add a rule than a real role name.
 */
function literalName(value: string, what: string, keywords: readonly string[], quoteBlanks = false): string {
  if (value.length === 0) throw new GrammarViolation(`${what} is empty`);
  requirePrintable(value, what);
  if (Buffer.byteLength(value, 'utf8') > NAME_MAX_BYTES) {
    throw new GrammarViolation(`${what} is longer than 63 bytes (PostgreSQL would truncate it)`);
  }
  if (!quoteBlanks) {
    if (/\s/.test(value))
      throw new GrammarViolation(`${what} contains whitespace, which splits pg_hba.conf fields`);
    if (value.includes(','))
      throw new GrammarViolation(`${what} contains a comma, which makes a pg_hba.conf list`);
    if (value.includes('#'))
      throw new GrammarViolation(`${what} contains #, which starts a pg_hba.conf comment`);
  } else if (/[^\S ]/.test(value)) {
    throw new GrammarViolation(`${what} contains whitespace other than a space`);
  }
  if (value.includes('"')) throw new GrammarViolation(`${what} contains a double quote`);
  if (value.includes('\\'))
    throw new GrammarViolation(`${what} contains a backslash (pg_hba.conf line continuation)`);
  if (value.startsWith('@'))
    throw new GrammarViolation(`${what} starts with @, which pg_hba.conf reads as a file include`);
  if (value.startsWith('+'))
    throw new GrammarViolation(`${what} starts with +, which pg_hba.conf reads as a group`);
  if (value.startsWith('/'))
    throw new GrammarViolation(`${what} starts with /, which pg_hba.conf reads as a regular expression`);
  // Quoting makes a keyword (or any other non-plain name) the literal name.
  if (keywords.includes(value.toLowerCase()) || !BARE.test(value)) return `"${value}"`;
  return value;
}

/** One literal role name for the user column (a keyword-named role is quoted, so it matches only itself). */
export function hbaRole(value: string): string {
  return literalName(value, 'a pg_hba.conf role name', [...DATABASE_KEYWORDS]);
}

/** One literal name in an entry list: like hbaRole, but a name with spaces, commas or # is double-quoted. */
export function hbaQuotedName(value: string): string {
  return literalName(value, 'a pg_hba.conf name', [...DATABASE_KEYWORDS], true);
}

/** One literal database name for the database column. */
export function hbaDatabase(value: string): string {
  return literalName(value, 'a pg_hba.conf database name', [...DATABASE_KEYWORDS]);
}

/** A word of postgres.hba's `database` list: a keyword stays a keyword, anything else is a literal name. */
export function hbaDatabaseWord(value: string): string {
  if ((DATABASE_KEYWORDS as readonly string[]).includes(value)) return value;
  return literalName(value, 'a pg_hba.conf database name', [...DATABASE_KEYWORDS], true);
}

/** A word of postgres.hba's `user` list: `all`, `+group` (group membership), or a literal role name. */
export function hbaUserWord(value: string): string {
  if ((USER_KEYWORDS as readonly string[]).includes(value)) return value;
  if (value.startsWith('+')) {
    const group = hbaRole(value.slice(1));
    // A quoted `+"x"` is a literal name, not a group: the group name must be bare.
    if (group.startsWith('"'))
      throw new GrammarViolation('a +group name must be a plain name (letters, digits, _ . $ -)');
    return `+${group}`;
  }
  return hbaQuotedName(value);
}

/** An IP address with an optional prefix length, written with the family's full-host prefix when none is given. */
export function hbaAddress(value: string): string {
  requirePrintable(value, 'a pg_hba.conf address');
  if (/\s/.test(value)) throw new GrammarViolation('contains whitespace, which splits pg_hba.conf fields');
  const m = /^([^/]*)(?:\/([^/]*))?$/.exec(value);
  const addr = m?.[1] ?? '';
  const prefix = m?.[2];
  const family = net.isIPv4(addr) ? 4 : net.isIPv6(addr) && !addr.includes('%') ? 6 : 0;
  if (!m || family === 0) {
    throw new GrammarViolation('is not an IPv4 or IPv6 address (optionally with a /prefix length)');
  }
  const max = family === 4 ? 32 : 128;
  if (prefix === undefined) return `${addr}/${max}`;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) {
    throw new GrammarViolation(`has a bad prefix length: IPv${family} prefixes are 0 to ${max}`);
  }
  return `${addr}/${prefix}`;
}

const HOST_NAME =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * postgres.hba's `address`: a keyword (all, samehost, samenet), an IP address with optional prefix, an
 * "address netmask" pair of one family, or a host name (a leading dot matches a domain suffix).
 */
export function hbaEntryAddress(value: string): string {
  requirePrintable(value, 'a pg_hba.conf address');
  const v = value.trim();
  if ((ADDRESS_KEYWORDS as readonly string[]).includes(v)) return v;
  const parts = v.split(/\s+/);
  if (parts.length === 2) {
    const [a, mask] = parts as [string, string];
    const fam = net.isIP(a);
    if (fam !== 0 && !a.includes('%') && net.isIP(mask) === fam) return `${a} ${mask}`;
    throw new GrammarViolation('"address netmask" needs two IP addresses of the same family');
  }
  if (parts.length === 1 && /^[0-9a-fA-F:.]+(\/.*)?$/.test(v) && (v.includes(':') || /^[0-9./]+$/.test(v))) {
    return hbaAddress(v);
  }
  if (parts.length === 1 && HOST_NAME.test(v) && v.length <= 253) return v;
  throw new GrammarViolation(
    'is not an address pg_hba.conf can hold (IP[/prefix], "IP netmask", host name, all, samehost, samenet)',
  );
}

/** The connection type column: a fixed list. */
export function hbaType(value: string): string {
  if (!(HBA_TYPES as readonly string[]).includes(value)) {
    throw new GrammarViolation(`is not a pg_hba.conf connection type (${HBA_TYPES.join(', ')})`);
  }
  return value;
}

/** The method column: a fixed list. */
export function hbaMethod(value: string): string {
  if (!(HBA_METHODS as readonly string[]).includes(value)) {
    throw new GrammarViolation(`is not a pg_hba.conf authentication method (${HBA_METHODS.join(', ')})`);
  }
  return value;
}

/** An auth option value (name=value): bare when plain, else double-quoted; what a quoted token cannot hold is refused. */
export function hbaOptionValue(value: string): string {
  requirePrintable(value, 'a pg_hba.conf option value');
  if (value.includes('"'))
    throw new GrammarViolation('a pg_hba.conf option value cannot contain a double quote');
  if (value.endsWith('\\'))
    throw new GrammarViolation('a pg_hba.conf option value cannot end with a backslash');
  return /^[^\s,#"]+$/.test(value) ? value : `"${value}"`;
}

/** Text after `#` on a line: one line, and not ending in a backslash (which would swallow the next line). */
export function hbaComment(value: string): string {
  requirePrintable(value.replace(/\t/g, ' '), 'a pg_hba.conf comment');
  if (/\\\s*$/.test(value)) {
    throw new GrammarViolation(
      'a pg_hba.conf comment cannot end with a backslash (it would continue onto the next line)',
    );
  }
  return value;
}
