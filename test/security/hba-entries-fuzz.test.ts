// postgres.hba entries judged by PostgreSQL itself: generated entries whose names, lists, addresses, option values
// and comments are built from the characters pg_hba.conf's tokenizer treats specially (blanks, `,`, `#`, `"`, `\`
// at a line end, `@`, `+`, `/`, keywords, line breaks, non-ASCII blanks). Each entry is either refused by the
// state's argument schema, or, written with the others into one file, read by a real PostgreSQL 15 through
// pg_hba_file_rules as exactly one rule that says what the entry says: no extra row, no lost row, no error row.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { postgresHba, renderHba } from '../../src/states/postgres/hba.js';
import { startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';

/** Deterministic PRNG (mulberry32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces a name is built from: plain ones, and ones the tokenizer gives a meaning (picked a third of the time).
const PLAIN = ['app', 'Rep', '_x', '9', '.', '-', '$', 'é', 'all', 'replication', 'sameuser', 'trust'];
const PIECES = [
  ' ',
  '\t',
  ',',
  '#',
  '"',
  '\\',
  '@',
  '+',
  '/',
  '$',
  '.',
  '-',
  "'",
  '=',
  '*',
  'é',
  '\u00a0',
  '\u2028',
  '\n',
  '\r',
  'all',
  'replication',
  'sameuser',
  'samerole',
  'samegroup',
  'trust',
  '0.0.0.0/0',
  '@/etc/passwd',
  '/^.*$',
];
const ADDRESSES = [
  'all',
  'samehost',
  'samenet',
  'db1.example.com',
  '.example.com',
  '10.0.0.1',
  '10.0.0.0/8',
  '0.0.0.0/0',
  'fd00::1',
  'fd00:0:0::1/64',
  '::/0',
  '10.0.0.1 255.0.0.0',
  'fd00::1 ffff:ffff::',
  '10.0.0.1 ffff::',
  '10.0.0.1/33',
  '10.0.0.1/08',
  'fe80::1%eth0',
  '0.0.0.0/0 trust',
  '10.1',
  'a b c',
  '-h',
  'x,y',
  '10.0.0.1#',
  '"10.0.0.1"',
  '10.0.0.1/32\nhost all all 0.0.0.0/0 trust',
  'exa_mple.com',
  'a'.repeat(64) + '.com',
];
const METHODS_HOST = ['trust', 'reject', 'scram-sha-256', 'md5', 'password', 'ident', 'pam'];
const METHODS_LOCAL = ['trust', 'reject', 'scram-sha-256', 'md5', 'peer', 'pam'];

interface Entry {
  type: string;
  database: string | string[];
  user: string | string[];
  address?: string;
  method: string;
  options?: Record<string, string>;
  comment?: string;
}

function generate(n: number): Entry[] {
  const rand = rng(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const word = () =>
    Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(rand() < 0.35 ? PIECES : PLAIN)).join('');
  const names = () => {
    const k = 1 + Math.floor(rand() * 3);
    const xs = Array.from({ length: k }, word);
    return k === 1 && rand() < 0.5 ? xs[0]! : xs;
  };
  const out: Entry[] = [];
  while (out.length < n) {
    const local = rand() < 0.25;
    const method = pick(local ? METHODS_LOCAL : METHODS_HOST);
    const e: Entry = {
      type: local ? 'local' : pick(['host', 'hostnossl']),
      database: names(),
      user: names(),
      method,
    };
    if (rand() < 0.2) e.user = `+${word()}`;
    if (!local) e.address = rand() < 0.7 ? pick(ADDRESSES) : word();
    if ((method === 'ident' || method === 'peer') && rand() < 0.5) e.options = { map: word() };
    if (rand() < 0.3) e.comment = word();
    out.push(e);
  }
  return out;
}

/** An IPv4 or IPv6 address as a number, for comparing what PostgreSQL prints with what was given. */
function ipValue(a: string): bigint {
  if (net.isIPv4(a)) return a.split('.').reduce((v, o) => (v << 8n) + BigInt(o), 0n);
  const [head, tail] = a.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((v, g) => (v << 16n) + BigInt(`0x${g}`), 0n);
}
const maskValue = (bits: number, family: 4 | 6): bigint => {
  const width = family === 4 ? 32 : 128;
  return ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
};

interface Row {
  type: string;
  database: string[];
  user_name: string[];
  address: string | null;
  netmask: string | null;
  auth_method: string;
  options: string[] | null;
  error: string | null;
}

/** Why the row PostgreSQL read is not the entry (undefined when it is). */
function mismatch(e: Entry, r: Row): string | undefined {
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  if (r.error) return `error ${r.error}`;
  if (r.type !== e.type || r.auth_method !== e.method) return `type/method ${r.type} ${r.auth_method}`;
  if (JSON.stringify(r.database) !== JSON.stringify(list(e.database)))
    return `database ${JSON.stringify(r.database)}`;
  if (JSON.stringify(r.user_name) !== JSON.stringify(list(e.user)))
    return `user ${JSON.stringify(r.user_name)}`;
  const opts = e.options ? Object.entries(e.options).map(([k, v]) => `${k}=${v}`) : null;
  if (JSON.stringify(r.options) !== JSON.stringify(opts)) return `options ${JSON.stringify(r.options)}`;
  if (e.address === undefined) return r.address === null ? undefined : `address ${r.address}`;
  const a = e.address.trim();
  const [ip, second] = a.split(/\s+|\//) as [string, string | undefined];
  const fam = net.isIP(ip);
  if (fam === 0)
    return r.address === a && r.netmask === null ? undefined : `address ${r.address} ${r.netmask}`;
  if (r.address === null || r.netmask === null || ipValue(r.address) !== ipValue(ip))
    return `address ${r.address}`;
  const want = a.includes(' ')
    ? ipValue(second!)
    : maskValue(second === undefined ? (fam === 4 ? 32 : 128) : Number(second), fam as 4 | 6);
  return ipValue(r.netmask) === want ? undefined : `netmask ${r.netmask}`;
}

describe('security: postgres.hba entries as PostgreSQL reads them', function () {
  this.timeout(180_000);
  let server: TempPostgres;
  let admin: pg.Client;
  before(async () => {
    server = await startTempPostgres();
    admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await server?.stop();
  });

  it('every generated entry is refused or loads as exactly that one rule', async () => {
    const entries = generate(10_000);
    const accepted: Entry[] = [];
    for (const e of entries) {
      const r = postgresHba.args.safeParse({ name: '/etc/postgresql/15/main/pg_hba.conf', entries: [e] });
      if (r.success) accepted.push(e);
    }
    const failures: string[] = [];
    const batch = 250;
    for (let i = 0; i < accepted.length; i += batch) {
      const part = accepted.slice(i, i + batch);
      writeFileSync(path.join(server.dataDir, 'pg_hba.conf'), renderHba(part as never));
      const rows = (
        await admin.query<Row>(
          `SELECT type, database, user_name, address, netmask, auth_method, options, error
             FROM pg_hba_file_rules ORDER BY line_number`,
        )
      ).rows;
      if (rows.length !== part.length) {
        failures.push(`batch ${i / batch}: ${part.length} entries, PostgreSQL read ${rows.length} rules`);
        continue;
      }
      part.forEach((e, k) => {
        const why = mismatch(e, rows[k]!);
        if (why) failures.push(`${JSON.stringify(e)}: ${why}`);
      });
    }
    console.log(
      `      ${entries.length} generated entries: ${entries.length - accepted.length} refused, ${accepted.length} loaded by PostgreSQL, ${failures.length} mismatches`,
    );
    assert.deepEqual(failures.slice(0, 20), []);
    assert.ok(
      accepted.length >= 500,
      `too few entries accepted (${accepted.length}) for the check to mean much`,
    );
    assert.ok(entries.length - accepted.length >= 500, 'too few hostile entries refused');
    assert.deepEqual(failures.slice(0, 20), []);
  });
});
