// A per-state `timeout:` for real over a loopback sshd: on one host a cmd.run that hangs past its timeout fails,
// its remote processes are ended, the state after it never runs there; the other host is applied. The job record
// says so, no lock is left, and once the state is fixed the next apply converges.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostRunResult } from '../../src/engine/result.js';
import type { LocalSshd } from '../helpers/local-sshd.js';
import {
  cmdState,
  lookup,
  loopbackSuite,
  orch,
  sleep,
  sqliteJobs,
  sqliteLocks,
  writeProject,
} from './harness.js';

describe('chaos: a state past its timeout:', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  loopbackSuite('orch-chaos-stimeout-', (s, t) => {
    sshd = s;
    tmp = t;
  });

  it('fails on its host (exit 1), nothing after it runs there, the other host is applied', async () => {
    const root = path.join(tmp, 'p');
    const out = path.join(tmp, 'out');
    const hang = (cmd: string) =>
      `hang:\n  cmd.run:\n    - name: ${JSON.stringify(cmd)}\n    - creates: ${out}/a.hung\n    - timeout: 2\n`;
    const aStates = (cmd: string) =>
      cmdState('before', `mkdir -p ${out}; touch ${out}/a.before`, `${out}/a.before`) +
      hang(cmd) +
      cmdState('after_hang', `touch ${out}/a.after`, `${out}/a.after`);
    writeProject(
      root,
      sshd!,
      {
        a: aStates(`sleep 41; touch ${out}/a.hung`),
        b: cmdState('bstep', `mkdir -p ${out}; sleep 3; touch ${out}/b.done`, `${out}/b.done`),
      },
      { 'a.example.com': ['a'], 'b.example.com': ['b'] },
    );
    const t0 = Date.now();
    const r = await orch(root, ['apply', 'a.example.com,b.example.com']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.ok(Date.now() - t0 < 20_000, 'bounded by the timeout');
    assert.match(r.stdout, /timed out after 2s \(timeout:\)/);
    assert.ok(existsSync(`${out}/a.before`), 'the state before it ran');
    assert.ok(!existsSync(`${out}/a.after`), 'the state after it did not run');
    assert.ok(existsSync(`${out}/b.done`), 'the other host was applied');
    await sleep(500);
    let lingering = true;
    try {
      execFileSync('pgrep', ['-f', `sleep 41; touch ${out}`]);
    } catch {
      lingering = false;
    }
    assert.ok(!lingering, 'the timed-out remote command was ended');
    assert.ok(!existsSync(`${out}/a.hung`));

    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.status, 'failed');
    assert.equal(job.exitCode, 1);
    assert.equal(job.hosts['b.example.com']?.status, 'changed');
    assert.equal(job.hosts['a.example.com']?.status, 'failed');
    const states = (job.hosts['a.example.com']!.result as HostRunResult).states;
    assert.deepEqual(
      states.map((s) => s.status),
      ['changed', 'failed', 'not_run'],
    );
    assert.deepEqual(sqliteLocks(root), []);

    writeFileSync(path.join(root, 'states', 'a.yaml'), aStates(`touch ${out}/a.hung`));
    const again = await orch(root, ['apply', 'a.example.com,b.example.com']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.ok(existsSync(`${out}/a.after`));
  });
});
