// kill -9 of the detached worker of an `--async` apply, in the middle of its slow step, with a lease (60 s) far
// longer than the test: `jobs lookup` right away shows the job interrupted and its locks are gone (the pid is
// checked on this machine, start time included), `jobs wait` ends, the next apply runs at once and converges, and
// the orphaned remote step finishes on its own while the step after it never starts. A run killed on another
// machine (another hostname on the same store) is judged by its lease alone: running until it runs out, then
// interrupted with its host and lock.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LocalSshd } from '../helpers/local-sshd.js';
import {
  cli,
  cliEnv,
  cmdState,
  hostStatuses,
  lookup,
  loopbackSuite,
  orch,
  sleep,
  sqliteJobs,
  sqliteLocks,
  sqliteWorkerPid,
  start,
  until,
  writeProject,
} from './harness.js';

describe('chaos: a worker killed with SIGKILL', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  loopbackSuite(
    'orch-chaos-kill-',
    (s, t) => {
      sshd = s;
      tmp = t;
    },
    { settleMs: 500 },
  );

  it('is shown interrupted at the first read, with its locks freed', async () => {
    const root = path.join(tmp, 'p');
    const out = path.join(tmp, 'out');
    writeProject(
      root,
      sshd!,
      {
        slow:
          cmdState(
            'slow',
            `mkdir -p ${out}; touch ${out}/started; sleep 3; touch ${out}/done`,
            `${out}/done`,
          ) + cmdState('later', `touch ${out}/later`, `${out}/later`),
      },
      { 'a.example.com': ['slow'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 60s\n',
    );
    const q = await orch(root, ['apply', 'a.example.com', '--async']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    await until('the slow step to start', () => existsSync(`${out}/started`));
    const pid = sqliteWorkerPid(root, jid);
    assert.deepEqual(sqliteJobs(root), [{ jid, status: 'running', exit_code: null }]);
    assert.deepEqual(sqliteLocks(root), [{ host: 'a.example.com', jid }]);
    process.kill(pid, 'SIGKILL');
    await until(
      'the worker to die',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
    );

    const t0 = Date.now();
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted', `at once, not after the 60 s lease (${Date.now() - t0} ms)`);
    assert.match(String(job.summary?.error), /worker .* is gone \(no process \d+\)/);
    assert.deepEqual(sqliteLocks(root), [], 'its lock went with it');
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'interrupted' }, 'its host is not left running');
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '5']);
    assert.equal(w.code, 5, w.stderr);
    assert.match(w.stdout, new RegExp(`job ${jid} interrupted \\(exit 5\\)`));
    const list = await orch(root, ['jobs', 'list', '--status', 'interrupted']);
    assert.match(list.stdout, new RegExp(`${jid} .* interrupted`));

    // The remote step was not killed by the controller's death, and nothing after it ran.
    await until('the orphaned step to finish', () => existsSync(`${out}/done`), 10_000);
    await sleep(2500);
    assert.ok(!existsSync(`${out}/later`), 'no step starts without a controller');
    const again = await orch(root, ['apply', 'a.example.com']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.ok(existsSync(`${out}/later`));
    assert.deepEqual(sqliteLocks(root), []);
  });

  it('a run on another machine killed with SIGKILL ends when its lease does, host and lock included', async function () {
    // "Another machine": the same store file, read by an orch whose hostname differs (its own UTS namespace).
    if (process.getuid?.() !== 0) this.skip();
    try {
      execFileSync('unshare', ['-u', 'true'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const root = path.join(tmp, 'p3');
    const out = path.join(tmp, 'out3');
    writeProject(
      root,
      sshd!,
      {
        slow:
          cmdState(
            'slow',
            `mkdir -p ${out}; touch ${out}/started; sleep 3; touch ${out}/done`,
            `${out}/done`,
          ) + cmdState('later', `touch ${out}/later`, `${out}/later`),
      },
      { 'a.example.com': ['slow'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 15s\n',
    );
    const elsewhere = spawn(
      'unshare',
      [
        '-u',
        'sh',
        '-c',
        'hostname orch-elsewhere && exec "$0" "$@"',
        process.execPath,
        cli,
        '--root',
        root,
        'apply',
        'a.example.com',
      ],
      { env: cliEnv(), stdio: 'ignore' },
    );
    const exited = new Promise((r) => elsewhere.once('close', r));
    await until('the slow step to start', () => existsSync(`${out}/started`));
    const jid = sqliteJobs(root)[0]!.jid;
    const pid = sqliteWorkerPid(root, jid);
    process.kill(pid, 'SIGKILL');
    await exited;

    // Here the pid tells nothing (it is another machine's): the job runs until its lease says otherwise.
    const seen = await lookup(root, jid);
    assert.equal(seen.worker, `orch-elsewhere:${pid}`);
    assert.equal(seen.status, 'running', 'not judged by a pid of another machine');
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '60']);
    assert.equal(w.code, 5, `${w.stdout}\n${w.stderr}`);
    assert.match(w.stdout, new RegExp(`job ${jid} interrupted`));
    const job = await lookup(root, jid);
    assert.equal(job.status, 'interrupted');
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'interrupted' }, 'its host is not left running');
    assert.deepEqual(sqliteLocks(root), [], 'its lock went with its lease');
    await until('the orphaned step to finish', () => existsSync(`${out}/done`), 10_000);
    const again = await orch(root, ['apply', 'a.example.com']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.ok(existsSync(`${out}/later`));
  });

  it('a synchronous apply killed with SIGKILL does not hold its hosts: the next apply takes them at once', async () => {
    const root = path.join(tmp, 'p2');
    const out = path.join(tmp, 'out2');
    writeProject(
      root,
      sshd!,
      {
        slow: cmdState(
          'slow',
          `mkdir -p ${out}; touch ${out}/started; sleep 2; touch ${out}/done`,
          `${out}/done`,
        ),
      },
      { 'a.example.com': ['slow'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 60s\n',
    );
    const run = start(root, ['apply', 'a.example.com']);
    await until('the slow step to start', () => existsSync(`${out}/started`));
    run.child.kill('SIGKILL');
    await run.done;
    await until('the orphaned step to finish', () => existsSync(`${out}/done`), 10_000);
    const again = await orch(root, ['apply', 'a.example.com']);
    assert.equal(again.code, 0, `not locked by the dead job (lease 60 s):\n${again.stdout}\n${again.stderr}`);
    const jobs = await orch(root, ['-o', 'json', 'jobs', 'list']);
    const listed = JSON.parse(jobs.stdout) as { status: string; hostStatus: Record<string, string> }[];
    assert.deepEqual(
      listed.map((j) => j.status),
      ['succeeded', 'interrupted'],
    );
    assert.deepEqual(
      listed[1]!.hostStatus,
      { 'a.example.com': 'interrupted' },
      'its host is not left running',
    );
    assert.deepEqual(sqliteLocks(root), []);
  });
});
