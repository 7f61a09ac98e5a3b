// The OpenSSH known_hosts format, as pure functions: parse lines, match host patterns (plain, wildcard, negated,
// hashed `|1|salt|hash`), build new entries, fingerprint keys. No file access here (see known-hosts.ts).
// Lines this module does not understand (comments, blanks, garbage) are kept verbatim, never rewritten.
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** A host's identity as known_hosts sees it. */
export interface HostKeyTarget {
  name: string;
  address: string;
  port: number;
}

export interface KnownHostEntry {
  kind: 'entry';
  /** The line as read (or as it will be written). */
  raw: string;
  /** 1-based line number in the file, 0 for entries not yet written. */
  lineNo: number;
  marker?: 'revoked' | 'cert-authority';
  /** Host patterns from the first field, split on commas (hashed ones start with `|1|`). */
  patterns: string[];
  keyType: string;
  keyBase64: string;
  comment?: string;
}

export interface OtherLine {
  kind: 'other';
  raw: string;
  lineNo: number;
}

export type KnownHostsLine = KnownHostEntry | OtherLine;

/** Parse known_hosts text into lines; anything not a valid entry is kept as an `other` line. */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((raw, i) => parseLine(raw.replace(/\r$/, ''), i + 1));
}

function parseLine(raw: string, lineNo: number): KnownHostsLine {
  const other: OtherLine = { kind: 'other', raw, lineNo };
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return other;
  const fields = trimmed.split(/\s+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return other;
  }
  const [hostField, keyType, keyBase64, ...rest] = fields;
  if (!hostField || !keyType || !keyBase64) return other;
  const blob = Buffer.from(keyBase64, 'base64');
  // A key whose embedded type disagrees with the type field is corrupt; OpenSSH ignores such lines too.
  if (keyTypeOf(blob) !== keyType) return other;
  const entry: KnownHostEntry = {
    kind: 'entry',
    raw,
    lineNo,
    patterns: hostField.split(','),
    keyType,
    keyBase64,
  };
  if (marker) entry.marker = marker;
  if (rest.length) entry.comment = rest.join(' ');
  return entry;
}

/** known_hosts text for the given lines (each line's raw form, newline-terminated). */
export function formatKnownHosts(lines: readonly KnownHostsLine[]): string {
  return lines.map((l) => `${l.raw}\n`).join('');
}

/** The names a host is looked up (and recorded) under: its name and its address, `[x]:port` when port != 22. */
export function lookupNames(host: HostKeyTarget): string[] {
  const names = [host.name, host.address].map((n) => n.toLowerCase());
  const unique = [...new Set(names.filter((n) => n.length > 0))];
  return unique.map((n) => (host.port === 22 ? n : `[${n}]:${host.port}`));
}

/** True when one host pattern list (a line's first field) matches `name`, following OpenSSH's rules. */
export function entryMatches(entry: Pick<KnownHostEntry, 'patterns'>, name: string): boolean {
  const lower = name.toLowerCase();
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('|1|')) {
      if (hashedMatches(p, lower)) matched = true;
      continue;
    }
    const negated = p.startsWith('!');
    const pattern = (negated ? p.slice(1) : p).toLowerCase();
    if (!wildcardMatches(pattern, lower)) continue;
    // A matching negated pattern vetoes the whole line, whatever else matched.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  // ['', '1', salt, hash]
  if (parts.length !== 4 || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

function wildcardMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** True when the pattern names exactly this host (no wildcard), so forgetting the host may remove it. */
export function isExactPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) return hashedMatches(pattern, name.toLowerCase());
  return pattern.toLowerCase() === name.toLowerCase();
}

/** A hashed host pattern `|1|salt|hash` for `name`, as `HashKnownHosts yes` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/** A new entry line for these names and this key blob. */
export function makeEntry(names: readonly string[], keyBlob: Buffer, comment?: string): KnownHostEntry {
  const keyType = keyTypeOf(keyBlob);
  if (!keyType) throw new Error('not an SSH public key blob');
  const keyBase64 = keyBlob.toString('base64');
  const raw = [names.join(','), keyType, keyBase64, ...(comment ? [comment] : [])].join(' ');
  const entry: KnownHostEntry = { kind: 'entry', raw, lineNo: 0, patterns: [...names], keyType, keyBase64 };
  if (comment) entry.comment = comment;
  return entry;
}

/** The same entry with some host patterns removed (the raw line is rebuilt, marker and comment kept). */
export function withPatterns(entry: KnownHostEntry, patterns: string[]): KnownHostEntry {
  const fields = [
    ...(entry.marker ? [`@${entry.marker}`] : []),
    patterns.join(','),
    entry.keyType,
    entry.keyBase64,
    ...(entry.comment ? [entry.comment] : []),
  ];
  return { ...entry, patterns, raw: fields.join(' ') };
}

/** The key type named inside an SSH public key blob (its first length-prefixed string), or '' if malformed. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return '';
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : '';
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key blob of an entry. */
export function entryKey(entry: KnownHostEntry): Buffer {
  return Buffer.from(entry.keyBase64, 'base64');
}
