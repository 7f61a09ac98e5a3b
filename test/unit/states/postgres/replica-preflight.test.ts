// pg_make_replica's preflight against fake PostgreSQL tools: what the primary and the local binaries report
// decides before anything is touched. Major version mismatch, wal_level minimal, no free walsender or slot,
// tablespaces and too little disk for data plus WAL are refused (exit 3) and pg_basebackup never runs.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shQuote } from '../../../../src/shell/quote.js';
import { renderReplicaScript, sampleInput } from './replica-helpers.js';

interface Primary {
  version?: string;
  walLevel?: string;
  senders?: [number, number];
  slots?: [number, number];
  tablespaces?: number;
  keepMb?: number;
  maxWalMb?: number;
  slot?: string;
}

describe('pg_make_replica preflight (fake tools)', function () {
  this.timeout(60_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root (pg_make_replica refuses to run otherwise)');
    return;
  }
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'orch-preflight-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function tool(bin: string, name: string, body: string): void {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  }

  function run(p: Primary, local = '15.5', freeKb = '99999999'): { status: number | null; out: string } {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const [senders, sendersUsed] = p.senders ?? [10, 0];
    const [slots, slotsUsed] = p.slots ?? [10, 0];
    const cfg = [
      p.version ?? '150005',
      p.walLevel ?? 'replica',
      senders,
      slots,
      sendersUsed,
      slotsUsed,
      p.tablespaces ?? 0,
      p.keepMb ?? 0,
      p.maxWalMb ?? 1024,
    ].join('|');
    tool(
      bin,
      'psql',
      `# The SQL comes on stdin (orch_psql). The primary is asked everything in one session: one tagged line per
# query, then IDENTIFY_SYSTEM's row.
last=$(cat)
case $last in
  *IDENTIFY_SYSTEM*) printf 'rec|f\\ncfg|%s\\nslot|%s\\nkb|1024\\n7000000000000000001|1|0/3000000|\\n' ${shQuote(cfg)} ${shQuote(p.slot ?? '')} ;;
  *pg_is_in_recovery*) echo f ;;
esac`,
    );
    tool(bin, 'pg_ctl', 'exit 3');
    tool(bin, 'pg_controldata', 'exit 0');
    tool(bin, 'postgres', `echo "postgres (PostgreSQL) ${local} (Debian ${local}-1)"`);
    tool(bin, 'pg_basebackup', `touch ${shQuote(path.join(dir, 'basebackup-ran'))}; exit 1`);
    tool(
      bin,
      'df',
      `printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/x 1 1 %s 1%% /\\n' ${shQuote(freeKb)}`,
    );
    const pgpass = path.join(dir, 'pgpass');
    writeFileSync(pgpass, '*:*:*:*:x\n', { mode: 0o600 });
    const script = renderReplicaScript(
      sampleInput({
        dataDir: path.join(dir, 'data'),
        binDir: bin,
        pgUser: 'root',
        pgGroup: 'root',
        pgpass,
        serviceStatus: ['false'],
      }),
    );
    const r = spawnSync('/bin/sh', ['-s', '--', '--check'], {
      input: script,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      timeout: 30_000,
    });
    assert.equal(existsSync(path.join(dir, 'basebackup-ran')), false);
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('plans a rebuild when everything fits (the refusals below are for their own reason)', () => {
    const r = run({});
    assert.equal(r.status, 10, r.out);
    assert.match(r.out, /step preflight: primary .* answers: PostgreSQL 15, .*timeline 1 at 0\/3000000/);
    assert.match(r.out, /step preflight: disk: \d+ MB free, need 1125 MB/);
  });

  it('refuses a major version mismatch between the primary and the local binaries', () => {
    const r = run({ version: '160002' });
    assert.equal(r.status, 3, r.out);
    assert.match(
      r.out,
      /refused: major version mismatch: the primary runs PostgreSQL 16 \(server_version_num 160002\), this host's binaries in .* are 15/,
    );
    const l = run({}, '14.9');
    assert.equal(l.status, 3, l.out);
    assert.match(l.out, /refused: .*\/postgres is PostgreSQL 14, this host is meant to run 15/);
  });

  it('refuses wal_level minimal', () => {
    const r = run({ walLevel: 'minimal' });
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /refused: the primary's wal_level is minimal/);
  });

  it('refuses without two free walsenders, or without a free slot when one must be created', () => {
    const r = run({ senders: [3, 2] });
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /refused: the primary has 1 free walsenders \(max_wal_senders 3, 2 in use\)/);
    const s = run({ slots: [2, 2] });
    assert.equal(s.status, 3, s.out);
    assert.match(
      s.out,
      /refused: no free replication slot on the primary \(max_replication_slots 2, 2 in use\)/,
    );
    // An existing inactive slot of ours needs no free one.
    assert.equal(run({ slots: [2, 2], slot: 'physical|inactive|reserved|0/2000000' }).status, 10);
  });

  it('refuses a primary with tablespaces', () => {
    const r = run({ tablespaces: 2 });
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /refused: the primary has 2 tablespaces/);
  });

  it('counts WAL (the larger of max_wal_size and wal_keep_size) in the disk needed', () => {
    const r = run({ keepMb: 4096 }, '15.5', String(2000 * 1024));
    assert.equal(r.status, 3, r.out);
    assert.match(
      r.out,
      /refused: not enough disk .*: 2000 MB free, need 4197 MB \(primary's databases \+ WAL 4096 MB \+ min_free_mb 100\)/,
    );
  });

  it('refuses a settings answer that is not numbers, before any arithmetic', () => {
    const r = run({ version: 'a[$(id)]' });
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /refused: unexpected settings from the primary \(not numbers\)/);
  });
});
