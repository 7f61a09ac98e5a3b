// SIGINT to `orch apply <replica> --force-rebuild <replica>` while the replica's base backup runs, on lab hosts
// (a formula-built primary and standby; run under flock /tmp/orch-lab.lock). The copy is slowed with the pillar's
// postgres.replica.max_rate so it is surely under way when the signal comes. One SIGINT: the rebuild's step ends
// on its own, orch exits 130 with the job interrupted and the host's own result, no lock is left. Two SIGINTs:
// orch exits at once; the rebuild left on the host ends by itself (completes, or rolls back when the script is
// stopped) and never leaves the replica without a working data directory. After each: the next apply converges,
// the replica streams and has the primary's rows.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobRecord } from '../../src/jobs/store.js';
import { parseJson } from '../helpers/cli.js';
import { DEMO_IDENTITY, notClean, psql, sh, waitUntil, type ApplyReport } from '../helpers/formula-lab.js';
import { LifecycleLab, countOf, inRecovery } from '../helpers/pg-lifecycle-lab.js';
import {
  ensureBuilt,
  lookup,
  sleep,
  sqliteJobs,
  sqliteLocks,
  start,
  until,
  type Running,
} from './harness.js';

const P = 'rsigp.example.com';
const R = 'rsigr.example.com';
const STATE_DIR = '/var/lib/orch/pg_make_replica';
/** Slow enough that the copy of a near-empty cluster (about 30 MB) lasts some seconds, fast enough for CI. */
const MAX_RATE = '2M';

describe('chaos: SIGINT during a replica base backup (lab hosts)', function () {
  this.timeout(600_000);
  const lab = new LifecycleLab('orch-chaos-rsig-', P, [R]);
  const env = { ORCH_AGE_IDENTITY: DEMO_IDENTITY };

  before(async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) this.skip();
    ensureBuilt();
    await lab.up();
    const file = path.join(lab.root, 'pillar/postgres.yaml');
    const text = readFileSync(file, 'utf8');
    const slowed = text.replace(/^ {4}# max_rate: .*$/m, `    max_rate: ${MAX_RATE}`);
    assert.notEqual(slowed, text, 'pillar/postgres.yaml has the max_rate example');
    writeFileSync(file, slowed);
  });
  after(async () => lab.down());

  /** The name pg_make_replica gives the record and lock of a data directory: its cksum. */
  const ck = (): string => `$(printf %s ${lab.data} | cksum | cut -d' ' -f1)`;
  /** The rebuild's record of the replica's data directory ('' when there is none): key=value lines. */
  const record = (): Promise<string> => sh(R, `cat ${STATE_DIR}/${ck()}.state 2>/dev/null || true`);
  const recordStep = async (): Promise<string> => /^step=(.*)$/m.exec(await record())?.[1] ?? '';
  /** pg_make_replica's lock on the replica is free: no run of it is left there. */
  const scriptDone = async (): Promise<boolean> =>
    (await sh(R, `flock -n -x /run/pg_make_replica.${ck()}.lock true || echo held`)) === '';
  const processes = (): Promise<string> =>
    // Lab hosts share the machine's process table: only what works on the replica's data directory.
    sh(R, `ps -eo pid,ppid,args | grep -F -- '-D ${lab.data} ' | grep -v grep || true`);
  const sysid = (h: string): Promise<string> =>
    sh(
      h,
      `/usr/lib/postgresql/15/bin/pg_controldata ${lab.data} | sed -n 's/^Database system identifier: *//p'`,
    );
  const dataInode = (): Promise<string> => sh(R, `stat -c %i ${lab.data}`);

  /**
   * The replica diverges (promoted: a primary of its own, which only a forced run replaces). Then the forced
   * rebuild starts; resolves once the replica's copy streams data files from the primary.
   */
  async function rebuildUnderWay(): Promise<Running> {
    assert.equal(await psql(R, 'SELECT pg_promote()'), 't');
    assert.equal(await waitUntil('f', () => inRecovery(R)), 'f', 'the replica was promoted');
    const run = start(lab.root, ['apply', R, '--force-rebuild', R, '--no-progress'], env, 300_000);
    let exited: { code: number; stdout: string; stderr: string } | undefined;
    void run.done.then((r) => (exited = r));
    await until(
      'the base backup to stream data files',
      async () => {
        if (exited) throw new Error(`orch exited ${exited.code} first:\n${exited.stdout}\n${exited.stderr}`);
        if ((await recordStep()) !== 'basebackup') return false;
        const phase = await psql(P, 'SELECT phase FROM pg_stat_progress_basebackup').catch(() => '');
        return phase === 'streaming database files';
      },
      120_000,
    );
    assert.match(
      await processes(),
      new RegExp(`pg_basebackup .*--max-rate=${MAX_RATE} `),
      'the copy runs at the pillar rate',
    );
    return run;
  }

  /** The replica streams from the primary (both ends say so) and has the row `note`. */
  async function streamsWith(note: string): Promise<void> {
    await until(
      'the replica to stream',
      async () => (await psql(R, 'SELECT status FROM pg_stat_wal_receiver').catch(() => '')) === 'streaming',
      120_000,
    );
    await until(
      'the primary to see its standby streaming',
      async () =>
        (await psql(P, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) === '1',
      60_000,
    );
    await until('the row on the replica', async () => (await countOf(R, note)) === '1', 60_000);
  }

  /**
   * No host lock is left; the same forced apply, run again at once, is not refused as locked and converges (a
   * rebuild that was rolled back put the promoted cluster back, which only a forced run replaces). Then, once the
   * copies a forced rebuild keeps aside are removed (the admin's call), apply changes nothing and drift is clean.
   */
  async function freeAndConverges(): Promise<string> {
    assert.deepEqual(sqliteLocks(lab.root), [], 'no lock outlives its job');
    const again = await lab.orch('apply', R, '--force-rebuild', R, '--no-progress');
    assert.notEqual(again.code, 6, `refused as locked:\n${again.stdout}\n${again.stderr}`);
    assert.equal(again.code, 0, `the next apply converges:\n${again.stdout}\n${again.stderr}`);
    await sh(R, `rm -rf ${lab.data}.orch-old-* ${lab.data}.orch-failed-*`);
    const a = await lab.orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(notClean(parseJson<ApplyReport>(a)), [], `after:\n${again.stdout}`);
    const d = await lab.orch('drift', '*', '--no-progress');
    assert.equal(d.code, 0, d.stdout + d.stderr);
    return again.stdout;
  }

  function hostRecord(job: JobRecord): { status: string; text: string } {
    const h = job.hosts[R];
    assert.ok(h, `the job has a record of ${R}: ${JSON.stringify(job)}`);
    return { status: h.status, text: JSON.stringify(h.result) };
  }

  it('one SIGINT: the rebuild step ends on its own, the job is interrupted with its result, then converges', async () => {
    await psql(P, "INSERT INTO life (note) VALUES ('a-before')");
    const inodeBefore = await dataInode();
    const run = await rebuildUnderWay();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /SIGINT: stopping/);
    const job = await lookup(lab.root, sqliteJobs(lab.root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 130);
    // The host's step was not cut: the record is the script's own verdict, matching what the host did.
    const rec = hostRecord(job);
    assert.equal(await recordStep(), '', `no rebuild record is left: ${await record()}`);
    const replaced = (await dataInode()) !== inodeBefore;
    if (replaced) {
      assert.equal(rec.status, 'changed', rec.text);
      assert.match(rec.text, /changed: replica built from/);
    } else {
      assert.equal(rec.status, 'failed', rec.text);
      assert.match(rec.text, /rollback/);
    }
    assert.deepEqual(sqliteLocks(lab.root), [], 'locks released before exit');
    await freeAndConverges();
    await psql(P, "INSERT INTO life (note) VALUES ('a-after')");
    await streamsWith('a-before');
    await streamsWith('a-after');
  });

  it('two SIGINTs: orch exits at once; the rebuild ends by itself and the next apply converges', async () => {
    await psql(P, "INSERT INTO life (note) VALUES ('b-before')");
    const primaryId = await sysid(P);
    const inodeBefore = await dataInode();
    const run = await rebuildUnderWay();
    run.child.kill('SIGINT');
    await sleep(200);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /SIGINT again: exiting now/);
    const job = await lookup(lab.root, sqliteJobs(lab.root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.notEqual(hostRecord(job).status, 'running');
    assert.deepEqual(sqliteLocks(lab.root), [], 'locks freed on the way out');
    // The script left on the host: it ends by itself (bounded wait), whichever way.
    try {
      await until('pg_make_replica to end on the replica', scriptDone, 180_000);
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nrecord:\n${await record()}\nprocesses:\n${await processes()}`,
      );
    }
    const left = `record:\n${await record()}\nprocesses:\n${await processes()}`;
    const outcome = (await recordStep())
      ? `left its record at step ${await recordStep()}`
      : (await dataInode()) === inodeBefore
        ? 'rolled back'
        : 'completed';
    console.log(`      (the rebuild left on the host ${outcome})`);
    assert.doesNotMatch(await processes(), /pg_basebackup/, `no copy is left running\n${left}`);
    // Never without a working data directory: a whole cluster of this primary is in place, or the record that
    // lets the next run put one back.
    if ((await recordStep()) === '')
      assert.equal(await sysid(R), primaryId, `a cluster of the primary is in ${lab.data}\n${left}`);
    await freeAndConverges();
    assert.equal(await recordStep(), '', 'the next run resumed or rolled back the recorded rebuild');
    await psql(P, "INSERT INTO life (note) VALUES ('b-after')");
    await streamsWith('b-before');
    await streamsWith('b-after');
  });
});
