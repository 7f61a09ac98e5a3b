// Progress of long steps through the detached worker, for real over a loopback sshd: while an --async apply's
// long step prints, `orch jobs lookup` shows the host's phase and the step's newest line (also a \r-redrawn meter,
// as pg_basebackup -P prints); the result replaces it when the host is done. Same for a long `orch run --async`.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { LocalSshd } from '../helpers/local-sshd.js';
import { cmdState, lookup, loopbackSuite, orch, until, writeProject } from './harness.js';

describe('chaos: progress of long steps in jobs lookup', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  loopbackSuite('orch-chaos-progress-', (s, t) => {
    sshd = s;
    tmp = t;
  });

  it('an --async apply: the long step’s newest line shows while it runs, then the result', async () => {
    const root = path.join(tmp, 'apply');
    const out = path.join(tmp, 'apply-out');
    const meter = `mkdir -p ${out}; for i in 1 2 3 4 5 6; do printf 'copied %s/6 GB\\r' $i; sleep 1; done; touch ${out}/done`;
    writeProject(root, sshd!, { s: cmdState('copy', meter, `${out}/done`) }, { 'a.example.com': ['s'] });
    const q = await orch(root, ['apply', 'a.example.com', '--async']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    let text = '';
    await until(
      'a progress line in jobs lookup',
      async () => {
        text = (await orch(root, ['jobs', 'lookup', jid])).stdout;
        return /a\.example\.com: applying: copied [2-5]\/6 GB/.test(text);
      },
      20_000,
    );
    assert.match(text, /RUNNING/);
    const running = await lookup(root, jid);
    assert.equal(running.hosts['a.example.com']?.status, 'running');
    assert.equal(
      (await orch(root, ['jobs', 'wait', jid, '--timeout', '60'])).code,
      0,
      'the job ends as it would without progress',
    );
    const done = await lookup(root, jid);
    assert.equal(done.hosts['a.example.com']?.status, 'changed');
    assert.doesNotMatch((await orch(root, ['jobs', 'lookup', jid])).stdout, /last seen/);
  });

  it('a long orch run --async: its newest output line shows while it runs', async () => {
    const root = path.join(tmp, 'run');
    writeProject(root, sshd!, {}, {});
    const q = await orch(root, [
      'run',
      'a.example.com',
      '--async',
      '--',
      'sh',
      '-c',
      'for i in 1 2 3 4 5; do echo "row $i of 5"; sleep 1; done',
    ]);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    await until(
      'the command’s last line in jobs lookup',
      async () =>
        /a\.example\.com: running: row [2-4] of 5/.test((await orch(root, ['jobs', 'lookup', jid])).stdout),
      20_000,
    );
    assert.equal((await orch(root, ['jobs', 'wait', jid, '--timeout', '60'])).code, 0);
    assert.equal((await lookup(root, jid)).hosts['a.example.com']?.status, 'ok');
  });
});
