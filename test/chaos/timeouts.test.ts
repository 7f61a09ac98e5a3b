// Hangs, bounded by --timeout: a host whose sshd is stopped with SIGSTOP (TCP is accepted by the kernel, SSH never
// answers) and a state whose command hangs. The timed-out host fails with TIMEOUT (exit 3) while the other host is
// applied; the job record says so, no lock is left, the timed-out host's remote script runs no further step, and
// the next apply converges.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import {
  cmdState,
  ensureBuilt,
  hostStatuses,
  lookup,
  orch,
  sleep,
  sqliteJobs,
  sqliteLocks,
  until,
  writeProject,
} from './harness.js';

/** The pid listening on a loopback port (the sshd this test started there). */
function listenerPid(port: number): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`nothing listens on ${port}: ${out}`);
  return Number(m[1]);
}

describe('chaos: hangs bounded by --timeout', function () {
  this.timeout(180_000);
  let sshd: LocalSshd | undefined;
  let stopped: LocalSshd | undefined;
  let stoppedPid = 0;
  let tmp = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    ensureBuilt();
    sshd = await startLocalSshd();
    stopped = await startLocalSshd();
    stoppedPid = listenerPid(stopped.port);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-chaos-hang-'));
  });
  after(async () => {
    if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
    await stopped?.stop();
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a host whose sshd is SIGSTOPped times out (exit 3); the other host is applied', async () => {
    const root = path.join(tmp, 'stop');
    const out = path.join(tmp, 'stop-out');
    writeProject(
      root,
      sshd!,
      { s: cmdState('step', `mkdir -p ${out}; touch ${out}/$(hostname).x`, `${out}/never`) },
      { '*': ['s'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 3s\n',
      {
        'frozen.example.com': {
          address: stopped!.address,
          port: stopped!.port,
          identity: stopped!.clientKey,
        },
      },
    );
    // Known first, so the host key is not the question.
    const first = await orch(root, ['run', 'frozen.example.com', '--', 'true']);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    process.kill(stoppedPid, 'SIGSTOP');
    try {
      const r = await orch(root, ['apply', 'a.example.com,frozen.example.com', '--timeout', '3']);
      assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
      // Ended by --timeout (its own message), not by the 10 s handshake timeout.
      assert.match(r.stdout, /frozen\.example\.com.*\n?.*timed out after 3s/);
      const job = await lookup(root, sqliteJobs(root)[0]!.jid);
      assert.equal(job.status, 'failed');
      assert.equal(job.exitCode, 3);
      assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed', 'frozen.example.com': 'timeout' });
      assert.deepEqual(sqliteLocks(root), []);

      const run = await orch(root, ['run', 'frozen.example.com', '--timeout', '2', '--', 'true']);
      assert.equal(run.code, 3, run.stderr);
      assert.match(`${run.stdout}${run.stderr}`, /(no SSH session|timed out) after 2s/);
      const drift = await orch(root, ['drift', 'frozen.example.com', '--timeout', '2']);
      assert.equal(drift.code, 3, drift.stdout);
      assert.match(`${drift.stdout}${drift.stderr}`, /(no SSH session|timed out) after 2s/);
    } finally {
      process.kill(stoppedPid, 'SIGCONT');
    }
    const again = await orch(root, ['apply', 'a.example.com,frozen.example.com', '--timeout', '30']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  });

  it('a hanging command times out on its host (exit 3) and nothing after it runs there', async () => {
    const root = path.join(tmp, 'hang');
    const out = path.join(tmp, 'hang-out');
    writeProject(
      root,
      sshd!,
      {
        hang:
          cmdState(
            'hang',
            `mkdir -p ${out}; touch ${out}/hanging; sleep 5; touch ${out}/hung`,
            `${out}/hanging`,
          ) + cmdState('later', `touch ${out}/later`, `${out}/later`),
        b: cmdState('bstep', `mkdir -p ${out}; touch ${out}/b.done`, `${out}/b.done`),
      },
      { 'a.example.com': ['hang'], 'b.example.com': ['b'] },
    );
    const t0 = Date.now();
    const r = await orch(root, ['apply', 'a.example.com,b.example.com', '--timeout', '2']);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.ok(Date.now() - t0 < 5000, 'the run ended at the timeout, not when the command did');
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.deepEqual(hostStatuses(job), { 'a.example.com': 'timeout', 'b.example.com': 'changed' });
    assert.equal(job.exitCode, 3);
    assert.deepEqual(sqliteLocks(root), []);
    // The step that hung was not cut (it may be half-way through something with its own rollback)...
    await until('the hung step to end on its own', () => existsSync(`${out}/hung`), 10_000);
    await sleep(2500);
    // ...but the script stopped there: no controller, no next step.
    assert.ok(!existsSync(`${out}/later`));
    const again = await orch(root, ['apply', 'a.example.com,b.example.com', '--timeout', '30']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.ok(existsSync(`${out}/later`));
  });
});
