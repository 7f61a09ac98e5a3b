// The lab against this machine: real namespaces, overlays and sshd. Needs Linux, root and openssh-server.
// Uses primary/replica (kept if already running) and a host of its own (labtest) for the destructive steps;
// the whole lab is taken down at the end only when it was not running before.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, type ProjectConfig } from '../../src/config/project.js';
import {
  BRIDGE,
  LAB_DIR,
  execInHost,
  labDown,
  labStatus,
  labUp,
  projectLabFiles,
  recreateHost,
} from '../../src/lab/index.js';
import type { LabHost } from '../../src/lab/index.js';
import { requireIntegration } from '../helpers/prereqs.js';

function sh(
  cmd: string,
  args: string[],
  timeout = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('lab: namespace hosts on this machine', function () {
  this.timeout(180_000);
  let tmp: string;
  let project: ProjectConfig;
  let hosts: LabHost[];
  let labWasDown = false;

  const ssh = (user: string, ip: string, command: string) => [
    '-i',
    projectLabFiles(project).key,
    '-o',
    `UserKnownHostsFile=${project.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    `${user}@${ip}`,
    command,
  ];

  before(async function () {
    requireIntegration(this, 'the lab suite');
    labWasDown = (await labStatus()).length === 0;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-lab-'));
    project = loadProject({ root: tmp });
    const t0 = Date.now();
    hosts = await labUp([], { project });
    assert.ok(Date.now() - t0 < 30_000, 'two hosts come up in seconds');
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('gives each host its own hostname and address', async () => {
    assert.deepEqual(
      hosts.map((h) => [h.name, h.ip, h.alive]),
      [
        ['primary.example.com', '10.213.0.11', true],
        ['replica.example.com', '10.213.0.12', true],
      ],
    );
    for (const h of hosts) {
      const name = await execInHost(h.name, ['hostname']);
      assert.equal(name.stdout.trim(), h.name);
      const addr = await execInHost(h.short, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      assert.match(addr.stdout, new RegExp(` inet ${h.ip.replace(/\./g, '\\.')}/16 `));
      const route = await execInHost(h.name, ['ip', 'route', 'show', 'default']);
      assert.equal(route.stdout.trim(), '', 'no default route in a host');
    }
  });

  it('answers plain ssh with the exported key, checked against the exported known_hosts', async () => {
    const inv = readFileSync(projectLabFiles(project).inventory, 'utf8');
    assert.match(
      inv,
      /^ {2}primary\.example\.com: \{ address: 10\.213\.0\.11, groups: \[lab\], lab: true \}$/m,
    );
    const root = await sh('ssh', ssh('root', '10.213.0.11', 'hostname'));
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout.trim(), 'primary.example.com');
    const deploy = await sh('ssh', ssh('deploy', '10.213.0.12', 'echo $0; sudo -n id -u'));
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.deepEqual(deploy.stdout.trim().split('\n'), ['sh', '0']);
  });

  it('lets hosts resolve and reach each other by name', async () => {
    const r = await execInHost('primary', ['getent', 'hosts', 'replica.example.com']);
    assert.match(r.stdout, /^10\.213\.0\.12\s+replica\.example\.com/);
    const scan = await execInHost('primary', [
      'ssh-keyscan',
      '-T',
      '5',
      '-t',
      'ed25519',
      'replica.example.com',
    ]);
    const replicaKey = readFileSync(project.knownHostsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('replica.example.com,10.213.0.12 ssh-ed25519 '))!;
    assert.ok(replicaKey, 'replica key exported');
    assert.ok(
      scan.stdout.includes(replicaKey.split(' ').slice(1).join(' ')),
      'replica answers primary with its own key',
    );
  });

  it("keeps each host's /etc private and guards root's .bashrc only inside hosts", async () => {
    const file = `/etc/orch-lab-probe-${process.pid}`;
    assert.equal((await execInHost('primary', ['/bin/sh', '-c', `echo hello > ${file}`])).code, 0);
    try {
      assert.equal((await execInHost('primary', ['cat', file])).stdout, 'hello\n');
      assert.equal((await execInHost('replica', ['test', '-e', file])).code, 1);
      assert.equal(existsSync(file), false, 'base system untouched');
    } finally {
      await execInHost('primary', ['rm', '-f', file]);
    }
    const guard = await execInHost('replica', ['head', '-n', '1', '/root/.bashrc']);
    assert.equal(guard.stdout.trim(), 'case $- in *i*) ;; *) return;; esac');
    if (existsSync('/root/.bashrc')) {
      assert.notEqual(readFileSync('/root/.bashrc', 'utf8').split('\n')[0], guard.stdout.trim());
    }
  });

  it('keeps running hosts when brought up twice', async () => {
    const again = await labUp(['primary', 'replica.example.com'], { project });
    assert.deepEqual(
      again.map((h) => [h.name, h.sshdPid, h.alive]),
      hosts.map((h) => [h.name, h.sshdPid, true]),
    );
  });

  describe('a host of its own (labtest)', () => {
    let testHost: LabHost;
    before(async () => {
      [testHost] = await labUp(['labtest'], { project });
    });

    it('gets the next free address and appears in every host /etc/hosts', async () => {
      assert.equal(testHost.name, 'labtest.example.com');
      assert.match(testHost.ip, /^10\.213\.0\.(2\d|[3-9]\d)$/);
      const r = await execInHost('primary', ['getent', 'hosts', 'labtest.example.com']);
      assert.equal(r.stdout.split(/\s+/)[0], testHost.ip);
    });

    it('runs its own PostgreSQL 15 cluster (pg_ctlcluster start/stop)', async function () {
      if (!existsSync('/usr/lib/postgresql/15/bin/postgres')) this.skip();
      const start = await execInHost('labtest', ['pg_ctlcluster', '15', 'main', 'start']);
      assert.equal(start.code, 0, start.stderr);
      try {
        const q = await execInHost('labtest', [
          'runuser',
          '-u',
          'postgres',
          '--',
          'psql',
          '-tAc',
          'select 40 + 2',
        ]);
        assert.equal(q.stdout.trim(), '42', q.stderr);
        const base = await sh('pg_lsclusters', ['-h']);
        assert.ok(!/\bonline\b/.test(base.stdout) || base.code !== 0, 'not running in the base system');
      } finally {
        const stop = await execInHost('labtest', ['pg_ctlcluster', '15', 'main', 'stop']);
        assert.equal(stop.code, 0, stop.stderr);
      }
    });

    it('rebuilds a dead host on up, keeping its address', async () => {
      process.kill(testHost.sshdPid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(testHost.sshdPid); i++) await new Promise((r) => setTimeout(r, 50));
      const st = (await labStatus()).find((h) => h.name === testHost.name)!;
      assert.equal(st.alive, false);
      const [rebuilt] = await labUp(['labtest.example.com'], { project });
      assert.equal(rebuilt!.ip, testHost.ip);
      assert.notEqual(rebuilt!.sshdPid, testHost.sshdPid);
      assert.equal(rebuilt!.alive, true);
      testHost = rebuilt!;
    });

    it('recreates a host with a fresh key that known_hosts does not trust', async () => {
      // Lines for labtest must stay as they were; hosts other lab users add meanwhile may be written around them.
      const labtestLines = () =>
        readFileSync(project.knownHostsFile, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('labtest.'))
          .sort();
      const before = labtestLines();
      const ok = await sh('ssh', ssh('root', testHost.ip, 'true'));
      assert.equal(ok.code, 0, ok.stderr);
      testHost = await recreateHost('labtest', { updateKnownHosts: false, project });
      assert.deepEqual(labtestLines(), before);
      const changed = await sh('ssh', ssh('root', testHost.ip, 'true'));
      assert.notEqual(changed.code, 0);
      assert.match(changed.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    });

    it('down <name> removes its namespace and processes, and its lines from the project', async () => {
      const pid = testHost.sshdPid;
      const removed = await labDown(['labtest'], { project });
      assert.deepEqual(
        removed.map((h) => h.name),
        ['labtest.example.com'],
      );
      assert.equal(alive(pid), false);
      const netns = await sh('ip', ['netns', 'list']);
      assert.ok(!/^orch-labtest\b/m.test(netns.stdout));
      assert.equal((await sh('ip', ['netns', 'pids', 'orch-labtest'])).stdout.trim(), '');
      assert.ok(!readFileSync(project.knownHostsFile, 'utf8').includes('labtest'));
      assert.ok(!readFileSync(projectLabFiles(project).inventory, 'utf8').includes('labtest'));
      const r = await execInHost('primary', ['getent', 'hosts', 'labtest.example.com']);
      assert.equal(r.code, 2);
    });
  });

  describe('the whole lab', () => {
    it('down removes every namespace, the bridge and /run/orch-lab, leaving no process', async function () {
      // Only when this test brought the lab up: others may be using a lab that was already running.
      if (!labWasDown) this.skip();
      const pids = (await labStatus()).map((h) => h.sshdPid);
      await labDown(undefined, { project });
      assert.equal(existsSync(LAB_DIR), false);
      assert.equal((await sh('ip', ['link', 'show', 'dev', BRIDGE])).code !== 0, true);
      assert.ok(!/^orch-/m.test((await sh('ip', ['netns', 'list'])).stdout));
      assert.deepEqual(pids.filter(alive), []);
      assert.match(readFileSync(projectLabFiles(project).inventory, 'utf8'), /^hosts: \{\}$/m);
      assert.equal(readFileSync(project.knownHostsFile, 'utf8'), '');
      // up after down works
      const [p] = await labUp(['primary'], { project });
      assert.equal(p!.alive, true);
      await labDown(undefined, { project });
      assert.equal(existsSync(LAB_DIR), false);
    });
  });
});
