// The SSH transport against a real OpenSSH server on loopback: exec round trips, host-key checking,
// auth failure, unreachable hosts in a fleet, timeouts and MaxSessions queueing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuthFailedError,
  CommandTimeoutError,
  HostKeyChangedError,
  HostKeyUnknownError,
  HostUnreachableError,
  OrchError,
} from '../../src/errors.js';
import { onEachHost } from '../../src/transport/fleet.js';
import { fingerprint, KnownHosts } from '../../src/transport/known-hosts.js';
import { connect } from '../../src/transport/ssh.js';
import type { Connection } from '../../src/transport/types.js';
import { canRunLocalSshd, freePort, hostFor, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

describe('transport against a local sshd', function () {
  this.timeout(60_000);
  let sshd: LocalSshd;
  let tmp: string;
  let khFile: string;

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
  });
  after(async () => {
    await sshd?.stop();
  });
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-kh-'));
    khFile = path.join(tmp, 'state', 'known_hosts');
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  function trusted(): KnownHosts {
    const kh = new KnownHosts(khFile);
    kh.add(hostFor(sshd), sshd.hostKeyBlob());
    return kh;
  }

  async function withConn<T>(fn: (c: Connection) => Promise<T>): Promise<T> {
    const conn = await connect(hostFor(sshd), { knownHosts: trusted() });
    try {
      return await fn(conn);
    } finally {
      await conn.close();
    }
  }

  it('runs a script on stdin and a command with stdin, with exit codes and stderr', async () => {
    await withConn(async (conn) => {
      const r = await conn.runScript('x=$((40+2))\necho "out $x"\necho "err ü" >&2\nexit 3\n');
      assert.deepEqual(r, { stdout: 'out 42\n', stderr: 'err ü\n', code: 3 });
      const c = await conn.exec('cat; echo done', { stdin: 'päyload\nline2' });
      assert.equal(c.stdout, 'päyload\nline2done\n');
      assert.equal(c.code, 0);
      // Scripts larger than the 128 KiB command-line limit work because they travel on stdin.
      const big = `${'# filler line to make the script large\n'.repeat(5000)}echo big-ok\n`;
      assert.ok(big.length > 150_000);
      assert.equal((await conn.runScript(big)).stdout, 'big-ok\n');
      const lots = await conn.exec("head -c 1000000 /dev/zero | tr '\\0' a");
      assert.equal(lots.stdout.length, 1_000_000);
    });
  });

  it('counts one connection and every exec channel', async () => {
    await withConn(async (conn) => {
      assert.deepEqual(conn.stats(), { connections: 1, execs: 0 });
      await conn.exec('true');
      await conn.runScript('true');
      await conn.exec('false');
      assert.deepEqual(conn.stats(), { connections: 1, execs: 3 });
    });
  });

  it('runs under sudo with become', async () => {
    const host = hostFor(sshd, { become: { method: 'sudo', user: 'nobody' } });
    const conn = await connect(host, { knownHosts: trusted() });
    try {
      assert.equal((await conn.runScript('id -un')).stdout.trim(), 'nobody');
      assert.equal((await conn.exec('id -un', { become: false })).stdout.trim(), 'root');
      assert.equal((await conn.exec('id -un; echo "$0"')).stdout.trim().split('\n')[0], 'nobody');
    } finally {
      await conn.close();
    }
  });

  it('refuses an unknown host key before any command and writes nothing', async () => {
    let ran = false;
    const [o] = await onEachHost([hostFor(sshd)], { knownHostsFile: khFile, parallel: 1 }, async (c) => {
      ran = true;
      return c.exec('true');
    });
    assert.ok(o && !o.ok);
    assert.ok(o.error instanceof HostKeyUnknownError, o.error.message);
    assert.match(o.error.message, /orch hostkeys trust local-sshd/);
    assert.ok(o.error.message.includes(fingerprint(sshd.hostKeyBlob())));
    assert.equal(ran, false);
    assert.deepEqual(o.stats, { connections: 1, execs: 0 });
    assert.equal(existsSync(khFile), false);
  });

  it('with acceptNew records an unknown key (0600) and then trusts it', async () => {
    const kh = new KnownHosts(khFile);
    const conn = await connect(hostFor(sshd), { knownHosts: kh, acceptNew: true });
    await conn.close();
    const text = readFileSync(khFile, 'utf8');
    assert.match(
      text,
      new RegExp(`^\\[local-sshd\\]:${sshd.port},\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `),
    );
    assert.equal(statSync(khFile).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(khFile)).mode & 0o777, 0o700);
    assert.equal(kh.check(hostFor(sshd), sshd.hostKeyBlob()).status, 'known');
    const again = await connect(hostFor(sshd), { knownHosts: new KnownHosts(khFile) });
    assert.equal((await again.exec('echo hi')).stdout, 'hi\n');
    await again.close();
  });

  it('authenticates with an RSA identity too (rsa-sha2 signature sent without a query first)', async () => {
    const key = path.join(tmp, 'id_rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', key]);
    appendFileSync(path.join(sshd.dir, 'authorized_keys'), readFileSync(`${key}.pub`));
    const conn = await connect(hostFor(sshd, { identity: key }), { knownHosts: trusted() });
    try {
      assert.equal((await conn.exec('echo rsa-ok')).stdout, 'rsa-ok\n');
    } finally {
      await conn.close();
    }
  });

  it('fails authentication for a user the server refuses', async () => {
    await assert.rejects(
      connect(hostFor(sshd, { user: 'orch-no-such-user' }), { knownHosts: trusted() }),
      (err: unknown) => err instanceof AuthFailedError && /orch-no-such-user/.test(err.message),
    );
  });

  it('reports a closed port as unreachable while the other host of the fleet succeeds', async () => {
    trusted();
    const closedPort = await freePort();
    const hosts = [hostFor(sshd, { name: 'down', port: closedPort }), hostFor(sshd)];
    const seen: string[] = [];
    const out = await onEachHost(
      hosts,
      { knownHostsFile: khFile, parallel: 4 },
      async (c) => (await c.exec('echo up')).stdout,
      { onDone: (o) => seen.push(o.host.name) },
    );
    assert.deepEqual(
      out.map((o) => o.host.name),
      ['down', 'local-sshd'],
    );
    const [down, up] = out;
    assert.ok(down && !down.ok && down.error instanceof HostUnreachableError, 'down host is unreachable');
    assert.match(down.error.message, /ECONNREFUSED/);
    assert.ok(down.error.cause, 'cause kept');
    assert.ok(up && up.ok);
    assert.equal(up.value, 'up\n');
    assert.deepEqual(up.stats, { connections: 1, execs: 1 });
    assert.deepEqual([...seen].sort(), ['down', 'local-sshd']);
  });

  it('wraps a non-orch error thrown by the work', async () => {
    trusted();
    const [o] = await onEachHost([hostFor(sshd)], { knownHostsFile: khFile, parallel: 1 }, () => {
      throw new TypeError('boom');
    });
    assert.ok(o && !o.ok);
    assert.ok(o.error instanceof OrchError);
    assert.equal(o.error.code, 'INTERNAL');
    assert.ok(o.error.cause instanceof TypeError);
  });

  it('times a command out, and the connection still works afterwards', async () => {
    await withConn(async (conn) => {
      const t0 = Date.now();
      await assert.rejects(conn.exec('sleep 10', { timeoutMs: 300 }), CommandTimeoutError);
      assert.ok(Date.now() - t0 < 3000);
      assert.equal((await conn.exec('echo still')).stdout, 'still\n');
    });
  });

  it('applies the connection-wide command timeout', async () => {
    const conn = await connect(hostFor(sshd), { knownHosts: trusted(), commandTimeoutMs: 300 });
    try {
      await assert.rejects(conn.runScript('sleep 10'), CommandTimeoutError);
    } finally {
      await conn.close();
    }
  });

  it('runs 12 concurrent execs on one connection (queued under MaxSessions)', async () => {
    await withConn(async (conn) => {
      // Each command reports when it started and ended on the host, so overlap is measured, not guessed.
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => conn.exec(`date +%s%N; sleep 0.3; date +%s%N; echo ${i}`)),
      );
      assert.ok(results.every((r) => r.code === 0));
      assert.deepEqual(
        results.map((r) => r.stdout.split('\n')[2]),
        Array.from({ length: 12 }, (_, i) => String(i)),
      );
      assert.equal(conn.stats().execs, 12);
      const spans = results.map((r) => r.stdout.split('\n').slice(0, 2).map(BigInt) as [bigint, bigint]);
      const peak = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
      assert.ok(peak > 1 && peak <= 8, `peak concurrency ${peak}`);
    });
  });

  // Rotates the server's host key: keep last.
  it('refuses a changed host key, even with acceptNew, and leaves known_hosts alone', async () => {
    const kh = trusted();
    const oldKey = sshd.hostKeyBlob();
    await sshd.rotateHostKey();
    const before = readFileSync(khFile, 'utf8');
    for (const acceptNew of [false, true]) {
      await assert.rejects(connect(hostFor(sshd), { knownHosts: kh, acceptNew }), (err: unknown) => {
        assert.ok(err instanceof HostKeyChangedError, String(err));
        assert.ok(err.message.includes(fingerprint(oldKey)), 'shows the old fingerprint');
        assert.ok(err.message.includes(fingerprint(sshd.hostKeyBlob())), 'shows the new fingerprint');
        assert.match(err.message, /refuses/);
        return true;
      });
    }
    assert.equal(readFileSync(khFile, 'utf8'), before);
    kh.replace(hostFor(sshd), sshd.hostKeyBlob());
    const conn = await connect(hostFor(sshd), { knownHosts: kh });
    assert.equal((await conn.exec('echo replaced')).stdout, 'replaced\n');
    await conn.close();
  });
});

describe('orch run and orch hostkeys, end to end over a local sshd', function () {
  this.timeout(120_000);
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  let sshd: LocalSshd | undefined;
  let project = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    project = mkdtempSync(path.join(os.tmpdir(), 'orch-run-cli-'));
    mkdirSync(path.join(project, 'inventory'));
    const closed = await freePort();
    const host = (name: string, port: number) => [
      `  ${name}:`,
      `    address: ${sshd!.address}`,
      `    port: ${port}`,
      `    user: ${sshd!.user}`,
      `    identity: ${sshd!.clientKey}`,
    ];
    writeFileSync(
      path.join(project, 'inventory', 'hosts.yaml'),
      ['hosts:', ...host('web1', sshd.port), ...host('down', closed), ''].join('\n'),
    );
  });
  after(async () => {
    await sshd?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  function orch(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), '-r', project, ...args],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('refuses an untrusted host (exit 3), trusts it with hostkeys trust, then runs', () => {
    const before = orch('run', 'web1', '--', 'true');
    assert.equal(before.code, 3, before.stdout + before.stderr);
    assert.match(before.stdout, /HOST_KEY_UNKNOWN: .*orch hostkeys trust web1/);
    const trust = orch('hostkeys', 'trust', 'web1');
    assert.equal(trust.code, 0, trust.stdout + trust.stderr);
    assert.ok(
      trust.stdout.includes(`web1: ssh-ed25519 ${fingerprint(sshd!.hostKeyBlob())} trusted`),
      trust.stdout,
    );
    assert.match(orch('hostkeys', 'trust', 'web1').stdout, /already trusted/);
    const run = orch('run', 'web1', '--', 'printf', '%s|', 'a b', "it's");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^=== web1\na b\|it's\|\n--- exit 0 \(\d+\.\d\ds\)\n1 host\(s\): 1 exit 0, 0 non-zero, 0 failed to run/,
    );
  });

  it('exits 1 when a command exits non-zero and shows its stderr', () => {
    const r = orch('run', 'web1', '--', 'sh', '-c', 'echo to-err >&2; exit 4');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /=== web1\n--- stderr\nto-err\n--- exit 4 /);
  });

  it('gives JSON per host with an unreachable host (exit 3)', () => {
    const r = orch('-o', 'json', 'run', '*', '--', 'sh', '-c', 'echo out; echo err >&2');
    assert.equal(r.code, 3);
    const doc = JSON.parse(r.stdout) as { hosts: Record<string, unknown>[]; summary: Record<string, number> };
    assert.deepEqual(doc.hosts[0], { host: 'web1', ok: true, exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    assert.equal(doc.hosts[1]!.host, 'down');
    assert.equal(doc.hosts[1]!.ok, false);
    assert.equal((doc.hosts[1]!.error as { code: string }).code, 'HOST_UNREACHABLE');
    assert.deepEqual({ ...doc.summary, ms: 0 }, { hosts: 2, ok: 1, nonZero: 0, failed: 1, ms: 0 });
  });

  it('applies --timeout and --become', () => {
    const t = orch('-o', 'json', 'run', 'web1', '--timeout', '0.5', '--', 'sleep', '10');
    const doc = JSON.parse(t.stdout) as { hosts: { error?: { code: string } }[] };
    assert.equal(doc.hosts[0]!.error?.code, 'TIMEOUT');
    assert.notEqual(t.code, 0);
    const b = orch('run', 'web1', '--become', '--', 'sh', '-c', 'echo "$SUDO_USER:$(id -un)"');
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.match(b.stdout, /\nroot:root\n/);
  });

  it('lists, refuses a changed key, replaces it with --replace, and forgets', async () => {
    const old = fingerprint(sshd!.hostKeyBlob());
    assert.equal(orch('hostkeys', 'trust', 'web1').code, 0);
    assert.match(orch('hostkeys', 'list', 'web1').stdout, new RegExp(`web1 .*ssh-ed25519 +${escape(old)}`));
    await sshd!.rotateHostKey();
    const fresh = fingerprint(sshd!.hostKeyBlob());
    const refused = orch('hostkeys', 'trust', 'web1');
    assert.equal(refused.code, 3);
    assert.ok(refused.stdout.includes(`${fresh} REFUSED`) && refused.stdout.includes(old), refused.stdout);
    const run = orch('run', 'web1', '--accept-new-hostkeys', '--', 'true');
    assert.equal(run.code, 3);
    assert.match(run.stdout, /HOST_KEY_CHANGED/);
    const replaced = orch('hostkeys', 'trust', 'web1', '--replace');
    assert.equal(replaced.code, 0, replaced.stdout);
    assert.match(replaced.stdout, /replaced \(was ssh-ed25519 /);
    const list = JSON.parse(orch('-o', 'json', 'hostkeys', 'list', 'web1').stdout) as {
      keys: { fingerprint: string }[];
    };
    assert.deepEqual(
      list.keys.map((k) => k.fingerprint),
      [fresh],
    );
    assert.equal(orch('run', 'web1', '--', 'true').code, 0);
    assert.match(orch('hostkeys', 'forget', 'web1').stdout, /web1: forgot 1 line/);
    assert.match(orch('hostkeys', 'list').stdout, /no host keys/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
