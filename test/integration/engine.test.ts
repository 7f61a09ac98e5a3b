// The state engine end to end on two real lab hosts (namespaces with their own sshd): every core module, requisites,
// test mode that writes nothing, apply, a second apply with no change, watch restarts only on change, a template
// error that aborts before any change, an unreachable host reported while the others go on, the round-trip budget.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import type { HostRunResult } from '../../src/engine/result.js';
import { execInHost, labDown, labUp, type LabHost } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch } from '../helpers/cli.js';

interface Report {
  mode: string;
  aborted?: { host: string; message: string };
  hosts: HostRunResult[];
}

describe('engine on lab hosts', function () {
  this.timeout(600_000);
  let root: string;
  let hosts: LabHost[];

  const orch = (...args: string[]) => runOrch(['--root', root, ...args]);
  const inHost = async (h: LabHost, script: string) =>
    (await execInHost(h.name, ['/bin/sh', '-c', script], { timeoutMs: 30_000 })).stdout;
  const statuses = (r: Report, host: string) =>
    Object.fromEntries(r.hosts.find((h) => h.host === host)!.states.map((s) => [s.id, s.status]));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-engine-it-'));
    cpSync(path.join(REPO_ROOT, 'test/fixtures/engine-project'), root, { recursive: true });
    hosts = await labUp(['engine1', 'engine2'], { project: loadProject({ root }) });
    mkdirSync(path.join(root, 'inventory'));
    const lines = hosts.map((h) => `  ${h.name}:\n    address: ${h.ip}\n    groups: [web]\n`).join('');
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n${lines}`,
    );
  });

  after(async () => {
    await labDown(
      hosts.map((h) => h.name),
      { project: loadProject({ root }) },
    );
    rmSync(root, { recursive: true, force: true });
  });

  it('test mode reports every change and writes nothing', async () => {
    const r = await orch('-o', 'json', 'apply', '*', '--test');
    assert.equal(r.code, 0, r.stderr);
    const report = parseJson<Report>(r);
    for (const h of hosts) {
      const s = statuses(report, h.name);
      assert.equal(s.hello, 'would_change');
      assert.equal(s['/etc/orchtest'], 'would_change');
      assert.equal(s['/etc/orchtest/app.conf'], 'would_change');
      assert.equal(s.orchtest, 'unknown', 'a service whose init script does not exist yet cannot be known');
      const conf = report.hosts
        .find((x) => x.host === h.name)!
        .states.find((x) => x.id === '/etc/orchtest/app.conf')!;
      assert.match(conf.diff!, /\+greeting = hello from orch/);
      assert.equal(await inHost(h, 'test -e /etc/orchtest && echo present || echo absent'), 'absent\n');
      assert.equal(
        await inHost(h, 'dpkg-query -W -f "${Status}" hello 2>/dev/null || echo missing'),
        'missing\n',
      );
    }
  });

  it('apply converges both hosts', async () => {
    const r = await orch('-o', 'json', 'apply', '*');
    const report = parseJson<Report>(r);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const h of hosts) {
      const s = statuses(report, h.name);
      for (const id of [
        'hello',
        '/etc/orchtest',
        '/etc/orchtest/app.conf',
        '/etc/init.d/orchtest',
        'orchtest',
      ]) {
        assert.equal(s[id], 'changed', `${h.name} ${id}`);
      }
      assert.match(await inHost(h, 'cat /etc/orchtest/app.conf'), /greeting = hello from orch/);
      assert.equal(await inHost(h, 'stat -c %a /etc/orchtest/app.conf'), '640\n');
      assert.equal(await inHost(h, 'hello'), 'Hello, world!\n');
      assert.equal(await inHost(h, 'service orchtest status && echo running'), 'running\n');
      assert.match(await inHost(h, 'cat /etc/orchtest/notes'), /first line\nmanaged-by: orch\n/);
      assert.equal(await inHost(h, 'cat /var/tmp/orchtest.report'), `report for ${h.name}\n`);
      const host = report.hosts.find((x) => x.host === h.name)!;
      assert.equal(host.stats.connections, 1);
      assert.ok(host.stats.execs <= 3, `apply used ${host.stats.execs} execs`);
    }
  });

  it('a second apply changes nothing, in one connection and two execs per host', async () => {
    const before = await inHost(hosts[0]!, 'cat /var/tmp/orchtest.starts');
    const r = await orch('-o', 'json', 'apply', '*');
    assert.equal(r.code, 0, r.stderr);
    const report = parseJson<Report>(r);
    for (const h of report.hosts) {
      assert.deepEqual(
        h.states.filter((s) => s.status !== 'clean').map((s) => `${s.id}: ${s.status} ${s.comment}`),
        [],
      );
      assert.deepEqual(h.stats, { connections: 1, execs: 2 });
    }
    assert.equal(
      await inHost(hosts[0]!, 'cat /var/tmp/orchtest.starts'),
      before,
      'no restart without a change',
    );
  });

  it('test mode on a drifted host shows the exact diff and leaves the file as it is', async () => {
    const h = hosts[1]!;
    await inHost(h, "sed -i 's/hello from orch/edited by hand/' /etc/orchtest/app.conf");
    await inHost(h, 'echo stale > /etc/orchtest/stale.conf');
    const r = await orch('-o', 'json', 'apply', h.name, '--test');
    const report = parseJson<Report>(r);
    const conf = report.hosts[0]!.states.find((s) => s.id === '/etc/orchtest/app.conf')!;
    assert.equal(conf.status, 'would_change');
    assert.match(conf.diff!, /-greeting = edited by hand\n\+greeting = hello from orch/);
    const svc = report.hosts[0]!.states.find((s) => s.id === 'orchtest')!;
    assert.equal(svc.status, 'would_change', 'the watching service would restart');
    assert.equal(report.hosts[0]!.states.find((s) => s.id === 'stale_file')!.status, 'would_change');
    assert.equal(await inHost(h, 'cat /etc/orchtest/stale.conf'), 'stale\n');
    assert.match(await inHost(h, 'cat /etc/orchtest/app.conf'), /edited by hand/);
  });

  it('watch restarts the service only where the watched file changed; onchanges runs there only', async () => {
    const [a, b] = hosts as [LabHost, LabHost];
    const startsA = await inHost(a, 'cat /var/tmp/orchtest.starts');
    const startsB = await inHost(b, 'cat /var/tmp/orchtest.starts');
    const onchB = await inHost(b, 'wc -l < /var/tmp/orchtest.onchanges');
    const r = await orch('-o', 'json', 'apply', '*');
    assert.equal(r.code, 0, r.stderr);
    const report = parseJson<Report>(r);
    assert.equal(statuses(report, b.name).orchtest, 'changed');
    assert.equal(statuses(report, a.name).orchtest, 'clean');
    assert.equal(await inHost(a, 'cat /var/tmp/orchtest.starts'), startsA);
    assert.equal(await inHost(b, 'cat /var/tmp/orchtest.starts'), `${startsB}start\n`);
    assert.equal(Number(await inHost(b, 'wc -l < /var/tmp/orchtest.onchanges')), Number(onchB) + 1);
    assert.equal(await inHost(b, 'test -e /etc/orchtest/stale.conf && echo present || echo gone'), 'gone\n');
  });

  it('a failing state exits 1 and its dependents do not run, while the rest of the host converges', async () => {
    writeFileSync(
      path.join(root, 'states/failing.yaml'),
      'fails:\n  cmd.run:\n    - name: echo about to fail; exit 7\n' +
        'after_fail:\n  file.managed:\n    - name: /etc/orchtest/after-fail\n    - contents: "x\\n"\n    - require: [fails]\n',
    );
    writeFileSync(path.join(root, 'states/top.yaml'), "'*':\n  - site\n  - failing\n");
    try {
      const r = await orch('-o', 'json', 'apply', hosts[0]!.name);
      assert.equal(r.code, 1, r.stderr);
      const s = parseJson<Report>(r).hosts[0]!.states;
      const fails = s.find((x) => x.id === 'fails')!;
      assert.equal(fails.status, 'failed');
      assert.match(fails.comment, /about to fail/);
      assert.equal(s.find((x) => x.id === 'after_fail')!.status, 'not_run');
      assert.ok(s.filter((x) => !['fails', 'after_fail'].includes(x.id)).every((x) => x.status === 'clean'));
      assert.equal(
        await inHost(hosts[0]!, 'test -e /etc/orchtest/after-fail && echo yes || echo no'),
        'no\n',
      );
    } finally {
      writeFileSync(path.join(root, 'states/top.yaml'), "'*':\n  - site\n");
    }
  });

  it('a template error on one host aborts the run before any host is changed', async () => {
    writeFileSync(path.join(root, 'pillar/app.yaml'), 'app:\n  greeting: changed greeting\n');
    writeFileSync(
      path.join(root, 'states/broken.yaml'),
      `{% if host == '${hosts[1]!.name}' %}oops:\n  file.managed:\n    - name: /etc/orchtest/oops\n    - contents: "{{ pillar.app.missing_key }}"\n{% endif %}\n`,
    );
    writeFileSync(path.join(root, 'states/top.yaml'), "'*':\n  - site\n  - broken\n");
    try {
      const r = await orch('apply', '*');
      assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /app\.missing_key/);
      assert.match(r.stdout + r.stderr, new RegExp(hosts[1]!.name.replace(/\./g, '\\.')));
      for (const h of hosts) assert.match(await inHost(h, 'cat /etc/orchtest/app.conf'), /hello from orch/);
    } finally {
      writeFileSync(path.join(root, 'states/top.yaml'), "'*':\n  - site\n");
      writeFileSync(path.join(root, 'pillar/app.yaml'), 'app:\n  greeting: hello from orch\n');
    }
  });

  it('an unreachable host is reported while the others are converged', async () => {
    const inv = path.join(root, 'inventory/extra.yaml');
    writeFileSync(
      inv,
      'defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n  gone.example.com:\n    address: 10.213.0.250\n',
    );
    try {
      const r = await orch('-o', 'json', 'apply', '*', '--accept-new-hostkeys');
      assert.equal(r.code, 3, r.stderr);
      const report = parseJson<Report>(r);
      const gone = report.hosts.find((h) => h.host === 'gone.example.com')!;
      assert.equal(gone.error?.code, 'HOST_UNREACHABLE');
      for (const h of hosts) assert.ok(report.hosts.find((x) => x.host === h.name)!.ok);
    } finally {
      rmSync(inv);
    }
  });
});
