// SIGINT / SIGTERM during a real `orch apply` over a loopback sshd, at several points: while a host connects,
// during the (read-only) check, and during the apply batch with a slow cmd.run. The first signal lets each host's
// current remote step finish, records the job interrupted with what each host confirmed (hosts never started are
// not_run), frees its locks and exits 130/143; a second exits at once while the remote step still finishes on its
// own and no later step starts. After each: the record is true, no lock is left, the next apply converges.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import {
  cmdState,
  ensureBuilt,
  hostStatuses,
  lookup,
  orch,
  runningJob,
  sleep,
  sqliteJobs,
  sqliteLocks,
  sqliteWorkerPid,
  start,
  until,
  untilRunning,
  writeProject,
} from './harness.js';

describe('chaos: signals during orch apply', function () {
  this.timeout(180_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  let n = 0;
  const sockets = new Set<net.Socket>();
  let hole: net.Server | undefined;
  let holePort = 0;

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    ensureBuilt();
    sshd = await startLocalSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-chaos-sig-'));
    // Accepts TCP and never speaks SSH: a host that is still connecting when the signal comes.
    hole = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => hole!.listen(0, '127.0.0.1', r));
    holePort = (hole.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (hole ? hole.close(() => r()) : r()));
    await sshd?.stop();
    // An orphaned remote step of the last case may still be writing its files for a moment.
    await sleep(500);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh project: a.example.com runs a slow step then a quick one; b and c one quick step each. */
  function project(slowCheck = false): { root: string; out: string } {
    const root = path.join(tmp, `p${++n}`);
    const out = path.join(tmp, `out${n}`);
    const slow = slowCheck
      ? `slow:\n  cmd.run:\n    - name: touch ${out}/a.done\n    - unless: "mkdir -p ${out}; touch ${out}/a.checking; sleep 3; test -e ${out}/a.done"\n`
      : cmdState(
          'slow',
          `mkdir -p ${out}; touch ${out}/a.started; sleep 3; touch ${out}/a.done`,
          `${out}/a.done`,
        );
    writeProject(
      root,
      sshd!,
      {
        slow: `${slow}${cmdState('after', `touch ${out}/a.after`, `${out}/a.after`).replace('after:', 'after_slow:')}`,
        b: cmdState('bstep', `mkdir -p ${out}; touch ${out}/b.done`, `${out}/b.done`),
        c: cmdState('cstep', `mkdir -p ${out}; touch ${out}/c.done`, `${out}/c.done`),
      },
      {
        'a.example.com': ['slow'],
        'b.example.com': ['b'],
        'c.example.com': ['c'],
        'hole.example.com': ['c'],
      },
      'accept_new_hostkeys: true\nconnect_timeout: 60\njobs:\n  lease: 3s\n',
      { 'hole.example.com': { address: '127.0.0.1', port: holePort } },
    );
    return { root, out };
  }

  async function assertFreeAndConverges(root: string, target: string): Promise<void> {
    assert.deepEqual(sqliteLocks(root), [], 'no lock outlives its job');
    const again = await orch(root, ['apply', target], {}, 60_000);
    assert.equal(again.code, 0, `the next apply runs and converges:\n${again.stdout}\n${again.stderr}`);
  }

  it('SIGINT during the apply batch: the batch finishes, both hosts keep their results, exit 130', async () => {
    const { root, out } = project();
    const run = start(root, ['apply', 'a.example.com,b.example.com']);
    await untilRunning(run, 'the slow step to start', () => existsSync(`${out}/a.started`));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /SIGINT: stopping/);
    assert.ok(existsSync(`${out}/a.done`) && existsSync(`${out}/a.after`), 'the running batch was not cut');
    const jid = sqliteJobs(root)[0]!.jid;
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 130);
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed', 'b.example.com': 'changed' });
    assert.equal(job.summary?.interrupted, 'SIGINT');
    assert.deepEqual(sqliteLocks(root), [], 'locks released before exit');
    await assertFreeAndConverges(root, 'a.example.com,b.example.com');
  });

  it('SIGINT with -j 1: hosts still waiting for their turn are not run; the running batch finishes', async () => {
    const { root, out } = project();
    const run = start(root, ['-j', '1', 'apply', 'a.example.com,b.example.com,c.example.com']);
    await untilRunning(run, 'the slow step to start', () => existsSync(`${out}/a.started`));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(existsSync(`${out}/a.done`) && existsSync(`${out}/a.after`), 'the running batch was not cut');
    assert.ok(!existsSync(`${out}/b.done`) && !existsSync(`${out}/c.done`), 'no new host was changed');
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.deepEqual(hostStatuses(job), {
      'a.example.com': 'changed',
      'b.example.com': 'not_run',
      'c.example.com': 'not_run',
    });
    assert.match(JSON.stringify(job.hosts['b.example.com']!.result), /not run: interrupted by SIGINT before/);
    await assertFreeAndConverges(root, 'a.example.com,b.example.com,c.example.com');
    assert.ok(existsSync(`${out}/b.done`) && existsSync(`${out}/c.done`));
  });

  it('SIGTERM during the apply batch: same, exit 143', async () => {
    const { root, out } = project();
    const run = start(root, ['apply', 'a.example.com,b.example.com']);
    await untilRunning(run, 'the slow step to start', () => existsSync(`${out}/a.started`));
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 143, r.stderr);
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 143);
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed', 'b.example.com': 'changed' });
    await assertFreeAndConverges(root, 'a.example.com,b.example.com');
  });

  it('SIGINT during the check: the check finishes, nothing is changed, exit 130', async () => {
    const { root, out } = project(true);
    const run = start(root, ['apply', 'a.example.com']);
    await untilRunning(run, 'the check to start', () => existsSync(`${out}/a.checking`));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(!existsSync(`${out}/a.done`), 'the host was not changed');
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(hostStatuses(job)['a.example.com'], 'not_run');
    assert.match(
      JSON.stringify(job.hosts['a.example.com']!.result),
      /not run: interrupted by SIGINT before this host was changed/,
    );
    await assertFreeAndConverges(root, 'a.example.com');
    assert.ok(existsSync(`${out}/a.done`));
  });

  it('SIGINT while a host is still connecting: given up at once, no host started is changed', async () => {
    const { root, out } = project();
    const run = start(root, ['apply', 'b.example.com,hole.example.com']);
    const jid = await runningJob(root);
    // b compiles and waits for every host to compile; hole hangs in its handshake (connect_timeout 60 s).
    await sleep(1500);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(
      Date.now() - t0 < 5000,
      `exited ${Date.now() - t0} ms after the signal, not after the handshake`,
    );
    assert.ok(!existsSync(`${out}/b.done`), 'b was not changed');
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted');
    assert.deepEqual(hostStatuses(job), { 'b.example.com': 'not_run', 'hole.example.com': 'not_run' });
    assert.match(
      JSON.stringify(job.hosts['hole.example.com']!.result),
      /interrupted by SIGINT while it was connecting/,
    );
    await assertFreeAndConverges(root, 'b.example.com');
  });

  it('a second SIGINT exits at once; the remote step still finishes and no later step starts', async () => {
    const { root, out } = project();
    const run = start(root, ['apply', 'a.example.com']);
    await untilRunning(run, 'the slow step to start', () => existsSync(`${out}/a.started`));
    run.child.kill('SIGINT');
    await sleep(200);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - t0 < 2000, `exited ${Date.now() - t0} ms after the second signal`);
    assert.match(r.stderr, /SIGINT again: exiting now/);
    assert.ok(!existsSync(`${out}/a.done`), 'orch left before the step ended');
    const jid = sqliteJobs(root)[0]!.jid;
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 130);
    assert.deepEqual(sqliteLocks(root), [], 'locks freed on the way out');
    // The host was in its step: no result came, so its record says interrupted (never `running` for good),
    // with where it was last seen.
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'interrupted' });
    assert.match(JSON.stringify(job.hosts['a.example.com']!.result), /"progress":\{"phase":"applying"/);
    const text = await orch(root, ['jobs', 'lookup', jid]);
    assert.match(text.stdout, /a\.example\.com: no result; last seen applying/);
    // The orphaned batch: its current step runs to its end (not killed by a write to the closed channel)...
    await until('the orphaned step to finish', () => existsSync(`${out}/a.done`), 10_000);
    // ...and the watchdog stops the script before its next step.
    await sleep(2500);
    assert.ok(!existsSync(`${out}/a.after`), 'no step starts without a controller');
    await assertFreeAndConverges(root, 'a.example.com');
    assert.ok(existsSync(`${out}/a.after`));
  });

  describe('on a PostgreSQL store', () => {
    let pgServer: TempPostgres | undefined;
    before(async function () {
      if (!existsSync(path.join(PG_BIN, 'initdb'))) this.skip();
      pgServer = await startTempPostgres();
    });
    after(async () => pgServer?.stop());

    it('a second SIGINT exits at once; the job and its host are recorded interrupted, the lock freed', async () => {
      const { root, out } = project();
      const url = await pgServer!.createDatabase('orch_second_sigint');
      const env = { ORCH_JOB_STORE: url };
      const run = start(root, ['apply', 'a.example.com'], env);
      await untilRunning(run, 'the slow step to start', () => existsSync(`${out}/a.started`));
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const locks = async () =>
          (await db.query<{ host: string }>('SELECT host FROM orch.host_locks ORDER BY host')).rows;
        const { jid } = (await db.query<{ jid: string }>('SELECT jid FROM orch.jobs')).rows[0]!;
        assert.deepEqual(await locks(), [{ host: 'a.example.com' }]);
        run.child.kill('SIGINT');
        await sleep(200);
        run.child.kill('SIGINT');
        const r = await run.done;
        assert.equal(r.code, 130, r.stderr);
        assert.match(r.stderr, /SIGINT again: exiting now/);
        assert.ok(!existsSync(`${out}/a.done`), 'orch left before the step ended');
        // Read straight from the server: what orch wrote on its way out, no reader's reconciliation.
        const job = (
          await db.query<{ status: string; exit_code: number }>(
            'SELECT status, exit_code FROM orch.jobs WHERE jid = $1',
            [jid],
          )
        ).rows[0]!;
        assert.deepEqual(job, { status: 'interrupted', exit_code: 130 });
        const hosts = (
          await db.query<{ host: string; status: string }>(
            'SELECT host, status FROM orch.host_results WHERE jid = $1',
            [jid],
          )
        ).rows;
        assert.deepEqual(hosts, [{ host: 'a.example.com', status: 'interrupted' }]);
        assert.deepEqual(await locks(), [], 'locks freed on the way out');
      } finally {
        await db.end();
      }
      await until('the orphaned step to finish', () => existsSync(`${out}/a.done`), 10_000);
      const again = await orch(root, ['apply', 'a.example.com'], env, 60_000);
      assert.equal(again.code, 0, `the next apply converges:\n${again.stdout}\n${again.stderr}`);
      assert.ok(existsSync(`${out}/a.after`));
    });
  });

  it('SIGTERM to the --async worker mid-batch: the batch finishes, the job is interrupted (143), lock freed', async () => {
    const { root, out } = project();
    const q = await orch(root, ['apply', 'a.example.com', '--async']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    await until('the slow step to start', () => existsSync(`${out}/a.started`));
    const pid = sqliteWorkerPid(root, jid);
    process.kill(pid, 'SIGTERM');
    await until('the job to end', async () => (await lookup(root, jid)).status !== 'running', 20_000);
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 143);
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed' });
    assert.ok(existsSync(`${out}/a.done`) && existsSync(`${out}/a.after`), 'the batch was not cut');
    await until(
      'the worker to exit',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
    await assertFreeAndConverges(root, 'a.example.com');
  });

  it('SIGINT during orch run: commands already running finish and are recorded, exit 130', async () => {
    const { root, out } = project();
    const run = start(root, [
      'run',
      'a.example.com,b.example.com',
      '--',
      'sh',
      '-c',
      `mkdir -p ${out}; touch ${out}/r.$$.started; sleep 2; echo ran`,
    ]);
    // Both hosts' commands must be running (a host still connecting at the signal is dropped, not run).
    const started = () =>
      existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.started')).length : 0;
    await untilRunning(run, 'both commands to start', () => started() >= 2);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /=== a\.example\.com\nran\n--- exit 0/);
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'ok', 'b.example.com': 'ok' });
  });

  it('SIGINT during orch drift: the checks running finish, the job is interrupted, exit 130', async () => {
    const { root, out } = project(true);
    const run = start(root, ['drift', 'a.example.com']);
    await untilRunning(run, 'the check to start', () => existsSync(`${out}/a.checking`));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.verb, 'drift');
    assert.equal(job.status, 'interrupted');
    assert.ok(!existsSync(`${out}/a.done`), 'drift changes nothing');
  });

  it('SIGINT during orch drift -j 1: hosts not yet checked are stored as not_run, never clean', async () => {
    const { root, out } = project(true);
    const run = start(root, ['-j', '1', '-o', 'json', 'drift', 'a.example.com,b.example.com,c.example.com']);
    await untilRunning(run, 'the check to start', () => existsSync(`${out}/a.checking`));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'interrupted');
    // The check that ran finished (a.done is missing: a has drifted); the others were given up.
    assert.deepEqual(hostStatuses(job), {
      'a.example.com': 'drifted',
      'b.example.com': 'not_run',
      'c.example.com': 'not_run',
    });
    assert.ok(!existsSync(`${out}/b.done`) && !existsSync(`${out}/c.done`), 'drift changes nothing');
    // The report printed says the same: not checked is not clean.
    const report = JSON.parse(r.stdout) as { hosts: { host: string; status: string }[] };
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.status]),
      [
        ['a.example.com', 'drifted'],
        ['b.example.com', 'not_run'],
        ['c.example.com', 'not_run'],
      ],
    );
    assert.deepEqual(sqliteLocks(root), [], 'no lock outlives its job');
  });
});
