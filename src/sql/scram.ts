// SCRAM-SHA-256 password verifiers exactly as PostgreSQL stores them in pg_authid.rolpassword
// (RFC 5802 / RFC 7677): `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`.
// Computed on the controller so only the verifier, never the plaintext, travels to a host.
//
// SASLprep follows PostgreSQL's pg_saslprep (src/common/saslprep.c), including its quirks: pure-ASCII passwords are
// used verbatim; otherwise non-ASCII spaces map to U+0020, "mapped to nothing" characters are dropped, the result
// is NFKC-normalised; when the mapped string is empty, holds a prohibited or unassigned code point, or breaks the
// bidi rules, the raw password is used instead (as the server does).
// Known limits: "unassigned" is judged with the Unicode version of this Node.js (`\p{Cn}`), not Unicode 3.2 as
// RFC 3454 and PostgreSQL's tables do, and LCat is approximated by "letter not right-to-left". Passwords mixing
// characters added after Unicode 3.2 with characters NFKC changes, or mixing scripts with right-to-left text, may
// hash differently from PostgreSQL; ASCII and ordinary accented or CJK passwords hash identically.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_DEFAULT_ITERATIONS = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
export const SCRAM_SALT_LEN = 16;

export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

type Range = readonly [number, number];

// RFC 3454 C.1.2 (non-ASCII space characters), mapped to SPACE.
const NON_ASCII_SPACE: Range[] = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

// RFC 3454 B.1 (commonly mapped to nothing).
const MAPPED_TO_NOTHING: Range[] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

// RFC 3454 C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9 (prohibited output).
const PROHIBITED: Range[] = [
  ...NON_ASCII_SPACE,
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x0340, 0x0341],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x1680, 0x1680],
  [0x180e, 0x180e],
  [0x200c, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0x2ff0, 0x2ffb],
  [0xd800, 0xdfff],
  [0xe000, 0xf8ff],
  [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff],
  [0xfff9, 0xffff],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
];

// RFC 3454 D.1 (characters with bidi property R or AL).
const RAND_AL_CAT: Range[] = [
  [0x05be, 0x05be],
  [0x05c0, 0x05c0],
  [0x05c3, 0x05c3],
  [0x05d0, 0x05ea],
  [0x05f0, 0x05f4],
  [0x061b, 0x061b],
  [0x061f, 0x061f],
  [0x0621, 0x063a],
  [0x0640, 0x064a],
  [0x066d, 0x066f],
  [0x0671, 0x06d5],
  [0x06dd, 0x06dd],
  [0x06e5, 0x06e6],
  [0x06fa, 0x06fe],
  [0x0700, 0x070d],
  [0x0710, 0x0710],
  [0x0712, 0x072c],
  [0x0780, 0x07a5],
  [0x07b1, 0x07b1],
  [0x200f, 0x200f],
  [0xfb1d, 0xfb1d],
  [0xfb1f, 0xfb28],
  [0xfb2a, 0xfb36],
  [0xfb38, 0xfb3c],
  [0xfb3e, 0xfb3e],
  [0xfb40, 0xfb41],
  [0xfb43, 0xfb44],
  [0xfb46, 0xfbb1],
  [0xfbd3, 0xfd3d],
  [0xfd50, 0xfd8f],
  [0xfd92, 0xfdc7],
  [0xfdf0, 0xfdfc],
  [0xfe70, 0xfe74],
  [0xfe76, 0xfefc],
];

const inTable = (cp: number, table: readonly Range[]): boolean =>
  table.some(([lo, hi]) => cp >= lo && cp <= hi);
const isNonCharacter = (cp: number): boolean => (cp & 0xfffe) === 0xfffe;
const isUnassigned = (cp: number): boolean => /\p{Cn}/u.test(String.fromCodePoint(cp)) && !isNonCharacter(cp);
const isLCat = (cp: number): boolean => /\p{L}/u.test(String.fromCodePoint(cp)) && !inTable(cp, RAND_AL_CAT);

/** SASLprep a password the way PostgreSQL does before hashing it (see the module comment for limits). */
export function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  const mapped: number[] = [];
  for (const ch of password) {
    const cp = ch.codePointAt(0)!;
    if (inTable(cp, NON_ASCII_SPACE)) mapped.push(0x20);
    else if (!inTable(cp, MAPPED_TO_NOTHING)) mapped.push(cp);
  }
  if (mapped.length === 0) return password;
  // PostgreSQL checks prohibited, unassigned and bidi on the mapped (not yet normalised) code points.
  if (mapped.some((cp) => inTable(cp, PROHIBITED) || isNonCharacter(cp) || isUnassigned(cp))) return password;
  if (mapped.some((cp) => inTable(cp, RAND_AL_CAT))) {
    const ends = [mapped[0]!, mapped[mapped.length - 1]!];
    if (mapped.some(isLCat) || !ends.every((cp) => inTable(cp, RAND_AL_CAT))) return password;
  }
  return String.fromCodePoint(...mapped).normalize('NFKC');
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();

/** The StoredKey and ServerKey of a password for a salt and iteration count. */
function scramKeys(
  password: string,
  salt: Buffer,
  iterations: number,
): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** Format a verifier as PostgreSQL stores it. */
export function formatVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${v.salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

/** A SCRAM-SHA-256 verifier for a password: random 16-byte salt and 4096 iterations unless given. */
export function scramVerifier(password: string, opts: { salt?: Buffer; iterations?: number } = {}): string {
  const iterations = opts.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error('SCRAM iterations must be a positive integer');
  const salt = opts.salt ?? randomBytes(SCRAM_SALT_LEN);
  if (salt.length === 0) throw new Error('SCRAM salt must not be empty');
  return formatVerifier({ iterations, salt, ...scramKeys(password, salt, iterations) });
}

const B64 = '[A-Za-z0-9+/]+={0,2}';
const VERIFIER_RE = new RegExp(`^SCRAM-SHA-256\\$([1-9][0-9]{0,9}):(${B64})\\$(${B64}):(${B64})$`);

/** Parse a stored SCRAM-SHA-256 verifier; null when the text is not one (md5, plaintext, NULL, garbage). */
export function parseVerifier(s: string | null | undefined): ScramVerifier | null {
  if (!s) return null;
  const m = VERIFIER_RE.exec(s);
  if (!m) return null;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2]!, 'base64');
  const storedKey = Buffer.from(m[3]!, 'base64');
  const serverKey = Buffer.from(m[4]!, 'base64');
  if (iterations > 0x7fffffff || salt.length === 0 || storedKey.length !== 32 || serverKey.length !== 32)
    return null;
  return { iterations, salt, storedKey, serverKey };
}

/** True when `stored` is a SCRAM-SHA-256 verifier of `password` (recomputed with its own salt and iterations). */
export function verifierMatches(stored: string | null | undefined, password: string): boolean {
  const v = parseVerifier(stored);
  if (!v) return false;
  const { storedKey, serverKey } = scramKeys(password, v.salt, v.iterations);
  return timingSafeEqual(storedKey, v.storedKey) && timingSafeEqual(serverKey, v.serverKey);
}
