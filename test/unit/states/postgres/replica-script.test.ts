// pg_make_replica against real PostgreSQL: a temp primary with a scram-authenticated replication role and
// temp standby data directories on this machine. Service commands are pg_ctl wrappers.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { PROGRESS_LINE } from '../../../../src/states/postgres/replica.js';
import {
  asPg,
  neverStartedCluster,
  pgCtl,
  query,
  renderReplicaScript,
  sampleInput,
  startReplicationPrimary,
  stopIfRunning,
} from './replica-helpers.js';

/** Every file under a directory with its size and mtime (what a rename, copy or write would change). */
function fileSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        out[path.relative(dir, p)] = `${st.ino}:${st.size}:${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

function sysid(dataDir: string): string {
  const r = spawnSync(path.join(PG_BIN, 'pg_controldata'), [dataDir], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  return /Database system identifier:\s+(\d+)/.exec(r.stdout)?.[1] ?? '';
}

describe('pg_make_replica on real PostgreSQL', function () {
  this.timeout(300_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root (the script renames data directories and runs tools as postgres)');
    return;
  }
  let primary: TempPostgres;
  let other: TempPostgres;
  let pgpass: string;
  let standbyDir: string;
  let standbyPort: number;

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    other = await startTempPostgres();
    // A used cluster: one user table (it is no longer pristine).
    await query(other.url(), 'CREATE TABLE precious (v text)');
    await query(other.url(), "INSERT INTO precious VALUES ('months of work')");
    standbyDir = path.join(other.dir, 'standby data');
    standbyPort = await neverStartedCluster(standbyDir, other.socketDir);
  });

  after(async () => {
    if (standbyDir) stopIfRunning(standbyDir);
    await other?.stop();
    await primary?.stop();
  });

  function script(dataDir: string, over: Parameters<typeof sampleInput>[0] = {}): string {
    const log = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.log`);
    return renderReplicaScript(
      sampleInput({
        primaryHost: '127.0.0.1',
        primaryPort: primary.port,
        slot: 'standby_1',
        dataDir,
        binDir: PG_BIN,
        pgpass,
        serviceStart: pgCtl(dataDir, '-l', log, '-w', '-t', '60', 'start'),
        serviceStop: pgCtl(dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'),
        serviceStatus: pgCtl(dataDir, 'status'),
        ...over,
      }),
    );
  }

  /** The data directory's inode and the inodes of files a base backup would replace. */
  function identity(dataDir: string): string[] {
    return ['', 'PG_VERSION', 'base', 'global'].map((f) => `${f}:${statSync(path.join(dataDir, f)).ino}`);
  }

  function runAsync(text: string, ...flags: string[]): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-s', '--', ...flags], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (status) => resolve({ status, out }));
      child.stdin.end(text);
    });
  }

  function run(text: string, ...flags: string[]): { status: number | null; out: string } {
    const r = spawnSync('/bin/sh', ['-s', '--', ...flags], {
      input: text,
      encoding: 'utf8',
      timeout: 200_000,
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('refuses a running used primary here (exit 3) and leaves it running and untouched', () => {
    const before = sysid(other.dataDir);
    for (const flags of [['--check'], []]) {
      const r = run(script(other.dataDir), ...flags);
      assert.equal(r.status, 3, r.out);
      assert.match(
        r.out,
        /refused: a PRIMARY is running on .* \(system identifier \d+\) and it is not pristine: database postgres holds \d+ user objects/,
      );
      assert.match(r.out, /^diverged: role$/m);
    }
    assert.equal(sysid(other.dataDir), before);
    assert.equal(asPg(pgCtl(other.dataDir, 'status').slice(4)).status, 0, 'still running');
    assert.equal(
      readdirSync(other.dir).some((f) => f.includes('orch-')),
      false,
      'nothing renamed',
    );
  });

  it('refuses a used foreign cluster without postmaster.opts (a cold copy), naming both identifiers; data intact', () => {
    assert.equal(asPg(pgCtl(other.dataDir, '-m', 'fast', '-w', 'stop').slice(4)).status, 0);
    // A cold copy or a restore has no postmaster.opts: that proves nothing about its content.
    rmSync(path.join(other.dataDir, 'postmaster.opts'));
    const files = fileSnapshot(other.dataDir);
    const r = run(script(other.dataDir), '--check');
    assert.match(r.out, /not provably pristine: objects were created in it after initdb \(next OID \d+\)/);
    assert.equal(r.status, 3, r.out);
    const ids = /identifier (\d+), primary has (\d+)/.exec(r.out);
    assert.ok(ids, r.out);
    assert.equal(ids[1], sysid(other.dataDir));
    assert.equal(ids[2], sysid(primary.dataDir));
    assert.notEqual(ids[1], ids[2]);
    assert.equal(run(script(other.dataDir)).status, 3);
    assert.equal(sysid(other.dataDir), ids[1], 'data untouched');
    assert.deepEqual(fileSnapshot(other.dataDir), files, 'no file of it changed');
    assert.equal(
      readdirSync(other.dir).some((f) => f.includes('orch-')),
      false,
      'nothing renamed',
    );
  });

  it('rebuilds a pristine RUNNING cluster (as Debian leaves one) without force; one with a user table is refused', async () => {
    const dir = path.join(other.dir, 'fresh');
    const log = `${dir}.log`;
    const port = await neverStartedCluster(dir, other.socketDir);
    try {
      assert.equal(asPg(pgCtl(dir, '-l', log, '-w', 'start').slice(4)).status, 0);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      // The replication role orch may have made there does not count as content.
      await query(url, 'CREATE ROLE replicator LOGIN');
      const c = run(script(dir, { slot: 'fresh_1' }), '--check');
      assert.equal(c.status, 10, c.out);
      assert.match(c.out, /plan: a pristine cluster runs on .*only template0, template1 and postgres/);

      await query(url, 'CREATE TABLE mine (v int)');
      const inode = statSync(dir).ino;
      for (const flags of [['--check'], []]) {
        const r = run(script(dir, { slot: 'fresh_1' }), ...flags);
        assert.equal(r.status, 3, r.out);
        assert.match(
          r.out,
          /refused: a PRIMARY is running .* not pristine: database postgres holds \d+ user objects/,
        );
      }
      assert.deepEqual(
        await query(url, 'SELECT count(*)::int AS n FROM mine'),
        [{ n: 0 }],
        'still running, table there',
      );
      assert.equal(statSync(dir).ino, inode);
      await query(url, 'DROP TABLE mine');

      const r = run(script(dir, { slot: 'fresh_1' }));
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /changed: replica built/);
      assert.equal(sysid(dir), sysid(primary.dataDir));
      assert.deepEqual(await query(url, 'SELECT pg_is_in_recovery() AS r'), [{ r: true }]);
    } finally {
      stopIfRunning(dir);
      await query(
        primary.url(),
        "SELECT pg_drop_replication_slot('fresh_1') FROM pg_replication_slots WHERE slot_name = 'fresh_1'",
      );
    }
  });

  it('--check on a never-started cluster plans a rebuild (exit 10) and changes nothing', async () => {
    const r = run(script(standbyDir), '--check');
    assert.equal(r.status, 10, r.out);
    assert.match(r.out, /plan: .* pristine stopped cluster .*no object created after initdb/);
    assert.match(r.out, /plan: create physical slot standby_1/);
    assert.doesNotMatch(r.out, /s3cr/);
    assert.deepEqual(await query(primary.url(), 'SELECT slot_name FROM pg_replication_slots'), []);
    assert.equal(existsSync(path.join(standbyDir, 'postmaster.pid')), false);
  });

  it('builds a streaming standby; a row written on the primary is read on the standby', async () => {
    const primaryId = sysid(primary.dataDir);
    const r = run(script(standbyDir));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /step slot: created physical slot standby_1/);
    assert.match(r.out, /\nchanged: replica built from 127\.0\.0\.1:\d+\n?$/);
    assert.doesNotMatch(r.out, /s3cr/, 'the password never shows');
    // pg_basebackup -P: its progress is in the output, ending at 100%, after the basebackup step.
    const meter = r.out.split(/\r|\n/).filter((l) => PROGRESS_LINE.test(l));
    assert.ok(meter.length > 0, r.out);
    assert.match(meter.at(-1)!, /^\s*(\d+)\/\1 kB \(100%\), 1\/1 tablespace/);
    assert.ok(r.out.indexOf('step basebackup:') < r.out.indexOf(meter[0]!));
    assert.equal(sysid(standbyDir), primaryId);
    assert.equal(
      readdirSync(path.dirname(standbyDir)).some((f) => f.includes('.orch-old-')),
      false,
      'old copy removed',
    );
    assert.match(
      readFileSync(path.join(standbyDir, 'postgresql.conf'), 'utf8'),
      new RegExp(`port = ${standbyPort}`),
    );

    await query(primary.url(), 'INSERT INTO t VALUES ($1)', ['hello from primary']);
    const standbyUrl = `postgres://postgres@127.0.0.1:${standbyPort}/postgres`;
    let rows: pg.QueryResultRow[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await query(standbyUrl, 'SELECT v FROM t');
      if (rows.length === 0) await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(rows, [{ v: 'hello from primary' }]);
    assert.deepEqual(await query(standbyUrl, 'SELECT pg_is_in_recovery() AS r'), [{ r: true }]);
    const slots = await query(primary.url(), 'SELECT slot_name, active FROM pg_replication_slots');
    assert.deepEqual(slots, [{ slot_name: 'standby_1', active: true }]);
  });

  it('then reports a healthy standby: --check exits 0 and a real run changes nothing', () => {
    const c = run(script(standbyDir), '--check');
    assert.equal(c.status, 0, c.out);
    assert.match(c.out, /no change: healthy standby of 127\.0\.0\.1:\d+/);
    const pidBefore = readFileSync(path.join(standbyDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const r = run(script(standbyDir));
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, /changed:/);
    assert.equal(
      readFileSync(path.join(standbyDir, 'postmaster.pid'), 'utf8').split('\n')[0],
      pidBefore,
      'not restarted',
    );
  });

  it('starts a standby stopped by hand instead of re-cloning it (no base backup taken)', async () => {
    assert.equal(asPg(pgCtl(standbyDir, '-m', 'fast', '-w', 'stop').slice(4)).status, 0);
    const before = identity(standbyDir);
    const c = run(script(standbyDir), '--check');
    assert.equal(c.status, 10, c.out);
    assert.match(c.out, /plan: start the stopped standby of this primary .* no rebuild/);
    assert.doesNotMatch(c.out, /pg_basebackup|rename/);
    const r = run(script(standbyDir));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /changed: started the stopped standby of 127\.0\.0\.1:\d+ streams \(slot standby_1/);
    assert.doesNotMatch(r.out, /step (basebackup|move|slot)/);
    assert.deepEqual(identity(standbyDir), before, 'same data directory and files: nothing was copied');
    assert.equal(
      readdirSync(path.dirname(standbyDir)).some((f) => f.includes('.orch-')),
      false,
      'no orch-old copy',
    );
    assert.equal(
      (await query(primary.url(), 'SELECT count(*)::int AS n FROM pg_replication_slots'))[0]!.n,
      1,
    );
    assert.equal(run(script(standbyDir), '--check').status, 0);
  });

  it('a stopped standby whose slot was dropped on the primary: slot made again, started, not re-cloned', async () => {
    assert.equal(asPg(pgCtl(standbyDir, '-m', 'fast', '-w', 'stop').slice(4)).status, 0);
    await query(primary.url(), "SELECT pg_drop_replication_slot('standby_1')");
    const before = identity(standbyDir);
    const r = run(script(standbyDir));
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /step slot: created the missing physical slot standby_1/);
    assert.match(r.out, /changed: started the stopped standby/);
    assert.doesNotMatch(r.out, /step (basebackup|move)/);
    assert.deepEqual(identity(standbyDir), before);
    assert.deepEqual(await query(primary.url(), 'SELECT slot_name, active FROM pg_replication_slots'), [
      { slot_name: 'standby_1', active: true },
    ]);
  });

  it('the primary restarted during 10 applies and 10 checks of a healthy standby: 0 rebuilds', async () => {
    const before = identity(standbyDir);
    const log = path.join(primary.dir, 'server.log');
    let rebuilds = 0;
    let waited = 0;
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const flags = i % 2 ? ['--check'] : [];
      const job = runAsync(script(standbyDir), ...flags);
      await new Promise((res) => setTimeout(res, (i % 10) * 150));
      const restart = asPg([
        '/bin/sh',
        '-c',
        `exec ${PG_BIN}/pg_ctl -D "$1" -l "$2" -m fast -w -t 60 restart >/dev/null`,
        'r',
        primary.dataDir,
        log,
      ]);
      assert.equal(restart.status, 0, restart.out);
      const r = await job;
      if (/step basebackup|plan: .*rename/.test(r.out)) rebuilds++;
      if (/step wait: |waiting up to/.test(r.out)) waited++;
      outcomes.push(`${flags[0] ?? 'apply'}:${r.status}`);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /no change: /);
    }
    console.log(
      `      ${outcomes.length} runs with a primary restart (${outcomes.join(' ')}); waited: ${waited}, rebuilds: ${rebuilds}`,
    );
    assert.equal(rebuilds, 0);
    assert.ok(waited > 0, 'some run met the primary or the receiver down');
    assert.deepEqual(identity(standbyDir), before);
  });

  it('refuses a standby on a newer timeline than the primary, running or stopped, and leaves it intact', async () => {
    const dir = path.join(other.dir, 'tl2');
    const port = await neverStartedCluster(dir, other.socketDir);
    const log = `${dir}.log`;
    try {
      assert.equal(run(script(dir, { slot: 'tl_1' })).status, 0);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      // Promoted outside orch (timeline 2), then made a standby again: it has data the pillar's primary lacks.
      await query(url, 'SELECT pg_promote(true)');
      await query(url, 'CHECKPOINT');
      assert.equal(asPg(pgCtl(dir, '-m', 'fast', '-w', 'stop').slice(4)).status, 0);
      assert.equal(asPg(['touch', path.join(dir, 'standby.signal')]).status, 0);
      assert.equal(asPg(pgCtl(dir, '-l', log, '-w', 'start').slice(4)).status, 0);
      const before = identity(dir);
      for (const flags of [['--check'], []]) {
        const r = run(script(dir, { slot: 'tl_1' }), ...flags);
        assert.equal(r.status, 3, r.out);
        assert.match(
          r.out,
          /refused: .* is on timeline 2 at .*, newer than the primary's timeline 1 at .*: it follows a node promoted elsewhere/,
        );
        assert.match(r.out, /^diverged: timeline$/m);
      }
      assert.equal(asPg(pgCtl(dir, '-m', 'fast', '-w', 'stop').slice(4)).status, 0);
      const r = run(script(dir, { slot: 'tl_1' }));
      assert.equal(r.status, 3, r.out);
      assert.match(r.out, /refused: .* is on timeline 2 /);
      assert.deepEqual(identity(dir), before);
      assert.equal(
        readdirSync(other.dir).some((f) => f.startsWith('tl2.orch-')),
        false,
      );
    } finally {
      stopIfRunning(dir);
      await query(
        primary.url(),
        "SELECT pg_drop_replication_slot('tl_1') FROM pg_replication_slots WHERE slot_name = 'tl_1'",
      );
    }
  });

  it('refuses when another standby streams from the slot', async () => {
    // The standby may still be reconnecting after the restarts above: wait (bounded) until it holds the slot.
    for (let i = 0; i < 100; i++) {
      const rows = await query(
        primary.url(),
        "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'standby_1' AND active",
      );
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const r = run(script(other.dataDir, { force: true }), '--check');
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /refused: slot standby_1 on the primary is active/);
  });

  it('when forced but the new standby cannot start, puts the old data back and drops the new slot', async () => {
    const before = sysid(other.dataDir);
    const r = run(script(other.dataDir, { force: true, slot: 'standby_2', serviceStart: ['false'] }));
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /plan: forced: replace data of another system/);
    assert.match(r.out, /step rollback: stopped at 'start PostgreSQL'/);
    assert.match(r.out, /failed: start PostgreSQL/);
    assert.equal(sysid(other.dataDir), before, 'old data directory restored');
    const kept = readdirSync(other.dir).filter((f) => f.includes('.orch-'));
    assert.equal(kept.length, 1, kept.join(','));
    assert.match(kept[0]!, /^data\.orch-failed-\d{14}$/);
    assert.equal(sysid(path.join(other.dir, kept[0]!)), sysid(primary.dataDir));
    const slots = await query(primary.url(), 'SELECT slot_name FROM pg_replication_slots ORDER BY 1');
    assert.deepEqual(slots, [{ slot_name: 'standby_1' }]);
  });

  it('a forced replacement of a used cluster keeps the old data directory and says where', async () => {
    const oldId = sysid(other.dataDir);
    const r = run(script(other.dataDir, { force: true, slot: 'forced_1' }));
    assert.equal(r.status, 0, r.out);
    const kept = /step cleanup: kept the previous data directory as (\S+) /.exec(r.out);
    assert.ok(kept, r.out);
    assert.match(r.out, /changed: replica built/);
    assert.doesNotMatch(r.out, /step cleanup: removed/);
    assert.equal(sysid(kept[1]!), oldId, 'the old cluster is intact where the report says');
    assert.ok(existsSync(path.join(kept[1]!, 'base')), 'its files are there');
    assert.equal(sysid(other.dataDir), sysid(primary.dataDir));
    // The next, unforced run does not carry the force: the healthy standby is left alone.
    const again = run(script(other.dataDir, { slot: 'forced_1' }));
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /no change: healthy standby/);
  });
});
