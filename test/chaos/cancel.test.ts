// `orch jobs cancel` of a running apply, for real over a loopback sshd, with a long cmd.run sequence on two hosts:
// each host stops at its next safe point (the state running finishes, no later state starts), the job ends
// `cancelled` with what each host confirmed (states done: changed; the rest: not run, stopped), its locks are
// freed at once, no remote step is left running, nothing is half-done, and the next apply converges.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { JobRecord } from '../../src/jobs/store.js';
import type { HostRunResult } from '../../src/engine/result.js';
import type { LocalSshd } from '../helpers/local-sshd.js';
import {
  cmdState,
  lookup,
  loopbackSuite,
  orch,
  runningJob,
  sleep,
  sqliteLocks,
  start,
  until,
  untilRunning,
  writeProject,
} from './harness.js';

const STEPS = 6;

describe('chaos: orch jobs cancel of a running apply', function () {
  this.timeout(180_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  let n = 0;
  loopbackSuite('orch-chaos-cancel-', (s, t) => {
    sshd = s;
    tmp = t;
  });

  /** Hosts a and b each run STEPS states of about 1 s, in order. */
  function project(): { root: string; out: string } {
    const root = path.join(tmp, `p${++n}`);
    const out = path.join(tmp, `out${n}`);
    const seq = (host: string): string =>
      Array.from({ length: STEPS }, (_, i) => {
        const d = `${out}/${host}`;
        return cmdState(
          `${host}_step${i + 1}`,
          `mkdir -p ${d}; touch ${d}/started${i + 1}; sleep 1; touch ${d}/done${i + 1}`,
          `${d}/done${i + 1}`,
        );
      }).join('');
    writeProject(
      root,
      sshd!,
      { a: seq('a'), b: seq('b') },
      { 'a.example.com': ['a'], 'b.example.com': ['b'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 10s\n',
    );
    return { root, out };
  }

  /** What a host confirmed, state by state; every started state is done (nothing half-done), not all ran. */
  function assertStoppedBetweenStates(job: JobRecord, out: string, host: 'a' | 'b'): number {
    const rec = job.hosts[`${host}.example.com`];
    assert.ok(rec, `${host} has a result`);
    assert.equal(rec.status, 'cancelled', JSON.stringify(rec));
    const states = (rec.result as HostRunResult).states;
    assert.equal(states.length, STEPS);
    const done = states.filter((s) => s.status === 'changed').length;
    assert.ok(done >= 1 && done < STEPS, `some but not all states ran on ${host} (${done})`);
    states.forEach((s, i) => {
      const ran = existsSync(`${out}/${host}/done${i + 1}`);
      assert.equal(
        existsSync(`${out}/${host}/started${i + 1}`),
        ran,
        `${host} step ${i + 1} is not half-done`,
      );
      if (i < done) {
        assert.equal(s.status, 'changed');
        assert.ok(ran);
      } else {
        assert.equal(s.status, 'not_run', JSON.stringify(s));
        assert.match(s.comment, /not run: stopped before this state: cancelled/);
        assert.ok(!ran, `${host} step ${i + 1} did not run`);
      }
    });
    return done;
  }

  function remoteStepsRunning(out: string): boolean {
    try {
      execFileSync('pgrep', ['-f', `touch ${out}/`]);
      return true;
    } catch {
      return false;
    }
  }

  async function assertAfterwards(root: string, out: string): Promise<void> {
    assert.deepEqual(sqliteLocks(root), [], 'no lock outlives its job');
    await sleep(1500);
    assert.ok(!remoteStepsRunning(out), 'no remote step keeps running');
    const again = await orch(root, ['apply', 'a.example.com,b.example.com'], {}, 60_000);
    assert.equal(again.code, 0, `the next apply converges:\n${again.stdout}\n${again.stderr}`);
    for (const h of ['a', 'b'])
      for (let i = 1; i <= STEPS; i++) assert.ok(existsSync(`${out}/${h}/done${i}`), `${h} step ${i} done`);
  }

  it('an --async apply: both hosts stop between states, the job is cancelled with what each confirmed', async () => {
    const { root, out } = project();
    const q = await orch(root, ['apply', 'a.example.com,b.example.com', '--async']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    await until('the first state to finish on both hosts', () =>
      ['a', 'b'].every((h) => existsSync(`${out}/${h}/done1`)),
    );
    const c = await orch(root, ['jobs', 'cancel', jid]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /cancel requested; it stops at its next safe point/);
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '60']);
    assert.equal(w.code, 1, `${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.cancelRequested, true);
    const done = ['a', 'b'].map((h) => assertStoppedBetweenStates(job, out, h as 'a' | 'b'));
    const text = await orch(root, ['jobs', 'lookup', jid]);
    assert.match(text.stdout, /cancelled \(exit 1\)/);
    // Asked after about 1 s of a 6 s sequence: the cancel (polled each second) stops it well before the end.
    assert.ok(
      done.every((d) => d <= STEPS - 2),
      `stopped at the next safe point, not at the end (states done: ${done.join(', ')})`,
    );
    await assertAfterwards(root, out);
  });

  it('a synchronous apply cancelled from another terminal: same, and orch apply exits 1', async () => {
    const { root, out } = project();
    const run = start(root, ['apply', 'a.example.com,b.example.com']);
    const jid = await runningJob(root);
    await untilRunning(run, 'the second state to start on a', () => existsSync(`${out}/a/started2`));
    const c = await orch(root, ['jobs', 'cancel', jid]);
    assert.equal(c.code, 0, c.stderr);
    const r = await run.done;
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /stopped before this state: cancelled/);
    const job = await lookup(root, jid);
    assert.equal(job.status, 'cancelled');
    assert.ok(assertStoppedBetweenStates(job, out, 'a') >= 2, 'the state running when cancelled finished');
    await assertAfterwards(root, out);
  });
});
