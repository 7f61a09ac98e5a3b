// ProxyJump on lab hosts, through the built CLI: a host whose network only a lab host reaches (a veth pair from the
// replica's netns into a netns of its own, an sshd there; the controller has no route to it) is reached with
// ProxyJump from an ssh_config file, over one and two hops. Needs Linux, root and openssh-server; run under
// `flock /tmp/orch-lab.lock`. Lab hosts that were already up stay up.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, type ProjectConfig } from '../../src/config/project.js';
import { labDown, labStatus, labUp, projectLabFiles, type LabHost } from '../../src/lab/index.js';
import { hashHostName } from '../../src/transport/known-hosts-format.js';
import { fingerprint, KnownHosts } from '../../src/transport/known-hosts.js';
import { parseJson, runOrch } from '../helpers/cli.js';
import { requireIntegration } from '../helpers/prereqs.js';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

describe('jump hosts: ProxyJump from an ssh_config, on lab hosts', function () {
  this.timeout(180_000);
  const tag = String(process.pid % 10_000);
  const ns = `ojump${tag}`;
  const vethOut = `oja${tag}`;
  const vethIn = `ojb${tag}`;
  const subnet = `10.214.${process.pid % 250}`;
  const hiddenIp = `${subnet}.2`;
  let tmp: string;
  let project: ProjectConfig;
  let hosts: LabHost[];
  let labWasDown = false;
  let sshd: ChildProcess | undefined;
  let hostKeyBlob: Buffer;
  let primary: LabHost;
  let replica: LabHost;

  before(async function () {
    requireIntegration(this, 'the jump host suite');
    labWasDown = (await labStatus()).length === 0;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-jump-'));
    project = loadProject({ root: tmp, sshConfig: 'none' });
    hosts = await labUp([], { project });
    primary = hosts.find((h) => h.short === 'primary')!;
    replica = hosts.find((h) => h.short === 'replica')!;
    assert.ok(primary && replica, 'the lab brings up primary and replica');

    // The hidden network: replica's netns <-> a netns of its own, a /30 the controller has no route to.
    ip('netns', 'add', ns);
    ip('link', 'add', 'name', vethOut, 'type', 'veth', 'peer', 'name', vethIn);
    ip('link', 'set', vethOut, 'netns', `orch-${replica.short}`);
    ip('link', 'set', vethIn, 'netns', ns);
    ip('-n', `orch-${replica.short}`, 'addr', 'add', `${subnet}.1/30`, 'dev', vethOut);
    ip('-n', `orch-${replica.short}`, 'link', 'set', vethOut, 'up');
    ip('-n', ns, 'addr', 'add', `${hiddenIp}/30`, 'dev', vethIn);
    ip('-n', ns, 'link', 'set', vethIn, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');

    const dir = path.join(tmp, 'hidden');
    mkdirSync(dir);
    const hostKey = path.join(dir, 'host_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    hostKeyBlob = Buffer.from(readFileSync(`${hostKey}.pub`, 'utf8').split(' ')[1]!, 'base64');
    const labKey = projectLabFiles(project).key;
    writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${labKey}.pub`));
    writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `ListenAddress ${hiddenIp}:22`,
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'PidFile none',
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'SetEnv SHLVL=1',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    // /run is private to this sshd (its privilege-separation dir, and the state's file below).
    const script =
      'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$0" -D -e -f "$1"';
    sshd = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'unshare',
        '-m',
        '/bin/sh',
        '-c',
        script,
        '/usr/sbin/sshd',
        path.join(dir, 'sshd_config'),
      ],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    while (!ip('netns', 'exec', ns, 'ss', '-ltnH').includes(`${hiddenIp}:22`)) {
      assert.ok(Date.now() - started < 10_000, 'the hidden sshd listens within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    // The project: the lab's inventory, two names for the hidden host, and an ssh_config that reaches them.
    mkdirSync(path.join(tmp, 'inventory'));
    copyFileSync(projectLabFiles(project).inventory, path.join(tmp, 'inventory', 'lab.yaml'));
    writeFileSync(path.join(tmp, 'inventory', 'hidden.yaml'), 'hosts:\n  hidden: {}\n  hidden-deep: {}\n');
    writeFileSync(
      path.join(tmp, 'ssh_config'),
      [
        'Host hidden hidden-deep',
        `  HostName ${hiddenIp}`,
        '  User root',
        `  IdentityFile ${labKey}`,
        '  IdentitiesOnly yes',
        'Host hidden',
        `  ProxyJump ${replica.name}`,
        'Host hidden-deep',
        `  ProxyJump root@${primary.name},${replica.name}`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(tmp, 'orch.yaml'), 'ssh_config: ssh_config\n');
    mkdirSync(path.join(tmp, 'states'));
    writeFileSync(path.join(tmp, 'states', 'top.yaml'), "'hidden*':\n  - probe\n");
    writeFileSync(
      path.join(tmp, 'states', 'probe.yaml'),
      'probe_file:\n  file.managed:\n    - name: /run/orch-jump-probe\n    - contents: "reached through the bastion\\n"\n',
    );
  });

  after(async () => {
    if (sshd?.pid !== undefined && sshd.exitCode === null) {
      const gone = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await gone;
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      /* never created */
    }
    if (labWasDown && project) await labDown([], { project });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const orch = (...args: string[]) => runOrch(['-r', tmp, ...args], { cwd: tmp, timeoutMs: 60_000 });

  it('is not routed from the controller: only the replica has the hidden network', () => {
    const route = ip('route', 'get', hiddenIp);
    assert.ok(!route.includes('orchlab0') && !route.includes(vethIn) && !route.includes(vethOut), route);
    assert.match(ip('-n', `orch-${replica.short}`, 'route', 'get', hiddenIp), new RegExp(`dev ${vethOut}`));
  });

  it('trusts the hidden host key through the jump host, then applies a state there with one connection per hop', async () => {
    const trust = await orch('hostkeys', 'trust', 'hidden', '-o', 'json');
    assert.equal(trust.code, 0, trust.stderr + trust.stdout);
    const { hosts: rows } = parseJson<{ hosts: { host: string; result: string; fingerprint: string }[] }>(
      trust,
    );
    assert.deepEqual(
      rows.map((r) => [r.host, r.result, r.fingerprint]),
      [['hidden', 'trusted', fingerprint(hostKeyBlob)]],
    );

    const apply = await orch('apply', 'hidden', '--stats');
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /2 connection\(s\)/, 'the jump host and the target: two connections');
    // The file exists only in the hidden sshd's own /run: the state ran on the hidden host.
    const content = execFileSync('nsenter', ['-t', String(sshd!.pid), '-m', 'cat', '/run/orch-jump-probe'], {
      encoding: 'utf8',
    });
    assert.equal(content, 'reached through the bastion\n');

    const again = await orch('apply', 'hidden', '--test', '-o', 'json');
    assert.equal(again.code, 0, again.stderr);
    const report = parseJson<{ hosts: { host: string; stats: { connections: number } }[] }>(again);
    assert.equal(report.hosts[0]!.stats.connections, 2);
  });

  it('goes through two hops, each a checked connection of its own', async () => {
    const r = await orch('apply', 'hidden-deep', '--test', '-o', 'json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = parseJson<{ hosts: { host: string; ok: boolean; stats: { connections: number } }[] }>(r);
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.ok, h.stats.connections]),
      [['hidden-deep', true, 3]],
    );
  });

  it('refuses a jump host whose key is not trusted, naming the hop and not the target', async () => {
    writeFileSync(path.join(tmp, 'empty_known_hosts'), '');
    const r = await runOrch(['-r', tmp, 'facts', 'hidden', '-o', 'json'], {
      cwd: tmp,
      env: { ORCH_KNOWN_HOSTS: path.join(tmp, 'empty_known_hosts') },
    });
    assert.equal(r.code, 3, r.stderr + r.stdout);
    const out = parseJson<{ hosts: { host: string; error: { code: string; message: string } }[] }>(r);
    assert.equal(out.hosts[0]!.error.code, 'HOST_KEY_UNKNOWN');
    assert.match(out.hosts[0]!.error.message, new RegExp(`^${replica.name.replace(/\./g, '\\.')} `));
  });

  it('trusts hashed entries of an OpenSSH known_hosts when opted in, and refuses a key it marks @revoked', async () => {
    const empty = path.join(tmp, 'empty_known_hosts');
    writeFileSync(empty, '');
    const replicaKeys = new KnownHosts(project.knownHostsFile).lookup({
      name: replica.name,
      address: replica.ip,
      port: 22,
    });
    assert.ok(replicaKeys.length > 0);
    const hidden = `ssh-ed25519 ${hostKeyBlob.toString('base64')}`;
    const lines = [
      ...replicaKeys.map((e) => `${hashHostName(replica.ip)} ${e.keyType} ${e.keyBase64}`),
      `${hashHostName(hiddenIp)} ${hidden}`,
    ];
    const sshKnown = path.join(tmp, 'ssh_known_hosts');
    writeFileSync(sshKnown, `${lines.join('\n')}\n`);
    const env = { ORCH_KNOWN_HOSTS: empty };
    writeFileSync(
      path.join(tmp, 'orch.yaml'),
      'ssh_config: ssh_config\nopenssh_known_hosts: [ssh_known_hosts]\n',
    );
    try {
      const ok = await runOrch(['-r', tmp, 'facts', 'hidden', '-o', 'json'], { cwd: tmp, env });
      assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      assert.equal(readFileSync(empty, 'utf8'), '', "nothing is copied into orch's own known_hosts");
      writeFileSync(sshKnown, `${lines.join('\n')}\n@revoked * ${hidden}\n`);
      const revoked = await runOrch(['-r', tmp, 'facts', 'hidden', '-o', 'json'], { cwd: tmp, env });
      assert.equal(revoked.code, 3, revoked.stderr + revoked.stdout);
      assert.match(revoked.stdout, /marks @revoked/);
    } finally {
      writeFileSync(path.join(tmp, 'orch.yaml'), 'ssh_config: ssh_config\n');
    }
  });
});
