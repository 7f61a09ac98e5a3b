// `orch jobs cancel` on lab hosts (network-namespace hosts with their own sshd; run under flock /tmp/orch-lab.lock):
// an --async apply of a long cmd.run sequence on two hosts is cancelled mid-way; each host stops at its next safe
// point, the job ends cancelled with what each host confirmed, its locks are freed, nothing is half-done and no
// remote step keeps running, and the next apply converges. The hosts are this test's own and are taken down after.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import type { HostRunResult } from '../../src/engine/result.js';
import { execInHost, labDown, labUp, projectLabFiles } from '../../src/lab/index.js';
import { ensureBuilt, lookup, orch, sqliteLocks, until } from './harness.js';

const HOSTS = ['jcancel1', 'jcancel2'];
const STEPS = 6;
const DIR = '/root/orch-cancel-lab';

describe('chaos: orch jobs cancel on lab hosts', function () {
  this.timeout(240_000);
  let root = '';
  let names: string[] = [];

  before(async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0 || !existsSync('/usr/sbin/sshd'))
      this.skip();
    ensureBuilt();
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-chaos-cancel-lab-'));
    const hosts = await labUp(HOSTS, { project: loadProject({ root }) });
    names = hosts.map((h) => h.name);
    mkdirSync(path.join(root, 'states'));
    const seq = Array.from({ length: STEPS }, (_, i) =>
      [
        `step${i + 1}:`,
        '  cmd.run:',
        `    - name: "mkdir -p ${DIR}; touch ${DIR}/started${i + 1}; sleep 1; touch ${DIR}/done${i + 1}"`,
        `    - creates: ${DIR}/done${i + 1}`,
      ].join('\n'),
    ).join('\n');
    writeFileSync(path.join(root, 'states', 'seq.yaml'), `${seq}\n`);
    writeFileSync(path.join(root, 'states', 'top.yaml'), `${names.map((n) => `'${n}': [seq]`).join('\n')}\n`);
    writeFileSync(path.join(root, 'orch.yaml'), 'jobs:\n  lease: 10s\n');
    for (const n of names) await execInHost(n, ['rm', '-rf', DIR]);
  });
  after(async () => {
    if (names.length) await labDown(HOSTS).catch(() => undefined);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const inv = () => ['-i', projectLabFiles(loadProject({ root })).inventory];
  const exists = async (host: string, file: string) =>
    (await execInHost(host, ['test', '-e', `${DIR}/${file}`])).code === 0;

  it('stops each host between states; the job is cancelled with what each host confirmed', async () => {
    const target = names.join(',');
    const q = await orch(root, [...inv(), 'apply', target, '--async']);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    await until(
      'the first state to finish on both hosts',
      async () => (await Promise.all(names.map((n) => exists(n, 'done1')))).every(Boolean),
      60_000,
    );
    const c = await orch(root, [...inv(), 'jobs', 'cancel', jid]);
    assert.equal(c.code, 0, c.stderr);
    const w = await orch(root, [...inv(), 'jobs', 'wait', jid, '--timeout', '60']);
    assert.equal(w.code, 1, `${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assert.equal(job.status, 'cancelled');
    assert.deepEqual(sqliteLocks(root), [], 'its locks are freed');
    for (const n of names) {
      const rec = job.hosts[n];
      assert.equal(rec?.status, 'cancelled', JSON.stringify(rec));
      const states = (rec!.result as HostRunResult).states;
      const done = states.filter((s) => s.status === 'changed').length;
      assert.ok(done >= 1 && done <= STEPS - 2, `${n}: stopped well before the end (${done} done)`);
      for (let i = 0; i < STEPS; i++) {
        const ran = await exists(n, `done${i + 1}`);
        assert.equal(await exists(n, `started${i + 1}`), ran, `${n} step ${i + 1} is not half-done`);
        assert.equal(ran, i < done, `${n} step ${i + 1}: the record says what the host did`);
        if (i >= done) assert.match(states[i]!.comment, /stopped before this state: cancelled/);
      }
      const ps = await execInHost(n, ['sh', '-c', `ps -eo args | grep -c "[t]ouch ${DIR}" || true`]);
      assert.equal(ps.stdout.trim(), '0', `${n}: no remote step keeps running`);
    }
    const again = await orch(root, [...inv(), 'apply', target], {}, 90_000);
    assert.equal(again.code, 0, `the next apply converges:\n${again.stdout}\n${again.stderr}`);
    for (const n of names) assert.ok(await exists(n, `done${STEPS}`));
  });
});
