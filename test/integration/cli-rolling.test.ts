// Rolling runs through the built CLI on four lab hosts: `--batch 2 --fail-percent 0` stops after the batch holding a
// failing host and reports the later hosts not run (nothing ran on them); with a share the batch stays under, the
// batches all run, one after the other; a standby listed first is put after its primary (postgres.replica).
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import type { HostRunResult } from '../../src/engine/result.js';
import type { RolloutReport } from '../../src/engine/rolling.js';
import { execInHost, labDown, labUp, type LabHost } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch } from '../helpers/cli.js';

interface Report {
  hosts: HostRunResult[];
  rollout?: RolloutReport;
}

const NAMES = ['roll1', 'roll2', 'roll3', 'roll4'];

describe('orch apply --batch on lab hosts', function () {
  this.timeout(300_000);
  let root: string;
  let hosts: LabHost[];
  const orch = (...args: string[]) => runOrch(['--root', root, '-o', 'json', ...args]);
  const stamp = async (name: string) =>
    (
      await execInHost(full(name), ['/bin/sh', '-c', 'cat /root/orch-roll-stamp 2>/dev/null || true'], {
        timeoutMs: 30_000,
      })
    ).stdout.trim();
  // Lab names are full names (roll1.<lab domain>); the tests say roll1.
  const full = (short: string) => hosts.find((h) => h.name.split('.')[0] === short)!.name;
  const host = (r: Report, short: string) => r.hosts.find((h) => h.host === full(short))!;
  const shorts = (batches: string[][] | undefined) => batches?.map((b) => b.map((n) => n.split('.')[0]));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-rolling-it-'));
    for (const d of ['inventory', 'states']) mkdirSync(path.join(root, d));
    hosts = await labUp(NAMES, { project: loadProject({ root }) });
    const lines = hosts.map((h) => `  ${h.name}:\n    address: ${h.ip}\n`).join('');
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n${lines}`,
    );
    writeFileSync(path.join(root, 'states/top.yaml'), "'*': [stamp]\n");
    // Each host writes when it ran (after a second, so batches cannot overlap unseen); roll2 fails when asked to.
    writeFileSync(
      path.join(root, 'states/stamp.yaml'),
      [
        'stamp:',
        '  cmd.run:',
        `    - name: "sleep 1; date +%s%N > /root/orch-roll-stamp{% if host.split('.')[0] == 'roll2' and vars.fail %}; false{% endif %}"`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await labDown(NAMES, { project: loadProject({ root }) });
    rmSync(root, { recursive: true, force: true });
  });

  it('--fail-percent 0 stops after the batch with a failure; the rest are not run', async () => {
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n${hosts
        .map((h) => `  ${h.name}:\n    address: ${h.ip}\n    vars: { fail: true }\n`)
        .join('')}`,
    );
    const r = await orch('apply', '*', '--batch', '2', '--fail-percent', '0');
    assert.equal(r.code, 1, r.stderr);
    const report = parseJson<Report>(r);
    assert.deepEqual(shorts(report.rollout?.batches), [
      ['roll1', 'roll2'],
      ['roll3', 'roll4'],
    ]);
    assert.equal(report.rollout?.ran, 1);
    assert.match(report.rollout?.stopped ?? '', /batch 1 of 2 had 1 of 2 host\(s\) failed/);
    assert.equal(host(report, 'roll1').ok, true);
    assert.equal(host(report, 'roll2').states[0]?.status, 'failed');
    for (const n of ['roll3', 'roll4']) {
      assert.equal(host(report, n).error?.code, 'CANCELLED');
      assert.match(host(report, n).error!.message, /not run: batch 1 of 2/);
      assert.equal(host(report, n).batch, 2);
      assert.equal(await stamp(n), '', `${n} must not have run`);
    }
    assert.notEqual(await stamp('roll1'), '');
    const human = await runOrch(['--root', root, 'apply', '*', '--batch', '2', '--fail-percent', '0']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /roll3\.\S+: \(batch 2\)\n {2}CANCELLED: not run: batch 1 of 2/);
    assert.match(human.stdout, /Rolling: 2 batch\(es\) \(2\+2 hosts\), 1 run; stopped:/);
  });

  it('runs every batch in order when the failures stay within --fail-percent', async () => {
    const r = await orch('apply', '*', '--batch', '50%', '--fail-percent', '50');
    assert.equal(r.code, 1, 'roll2 still fails');
    const report = parseJson<Report>(r);
    assert.equal(report.rollout?.ran, 2);
    assert.equal(report.rollout?.stopped, undefined);
    const t = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, BigInt(await stamp(n))])));
    const firstDone = t.roll1 > t.roll2 ? t.roll1 : t.roll2;
    for (const n of ['roll3', 'roll4']) assert.ok(t[n] > firstDone, `${n} ran after batch 1 had finished`);
  });

  it('puts a standby after its primary whatever the inventory order', async () => {
    // roll1 is a standby of roll4 (by address): with --batch 1 it must run after roll4.
    const primary = hosts.find((h) => h.name === full('roll4'))!;
    writeFileSync(path.join(root, 'states/top.yaml'), `'*': [stamp]\n'${full('roll1')}': [standby]\n`);
    cpSync(path.join(REPO_ROOT, 'templates/postgres'), path.join(root, 'templates/postgres'), {
      recursive: true,
    });
    writeFileSync(
      path.join(root, 'states/standby.yaml'),
      [
        'standby:',
        '  postgres.replica:',
        `    - primary: ${primary.ip}`,
        '    - replication_user: replicator',
        '    - slot: roll1',
        "    - version: '15'",
        '    - pgpass: /nonexistent/.pgpass',
        '',
      ].join('\n'),
    );
    // roll2 (first) fails, so --fail-percent 0 stops after it: the standby's own check is never needed here.
    const r = await orch('apply', '*', '--batch', '1', '--fail-percent', '0');
    const report = parseJson<Report>(r);
    assert.ok(report.rollout, r.stdout);
    assert.deepEqual(shorts(report.rollout?.batches), [['roll2'], ['roll3'], ['roll4'], ['roll1']]);
    assert.equal(host(report, 'roll1').batch, 4);
    assert.equal(host(report, 'roll4').batch, 3);
    assert.equal(host(report, 'roll1').error?.code, 'CANCELLED');
  });

  it('refuses bad values and --fail-percent without --batch (exit 4)', async () => {
    for (const args of [
      ['--batch', '0'],
      ['--batch', '120%'],
      ['--batch', 'two'],
      ['--batch', '2', '--fail-percent', '101'],
      ['--fail-percent', '10'],
    ]) {
      const r = await runOrch(['--root', root, 'apply', '*', '--test', ...args]);
      assert.equal(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /batch|percent/);
    }
  });
});
