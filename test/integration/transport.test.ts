// The SSH transport against a real OpenSSH server on loopback: exec round trips, host-key checking,
// auth failure, unreachable hosts in a fleet, timeouts and MaxSessions queueing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
      const t0 = Date.now();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => conn.exec(`sleep 0.4; echo ${i}`)),
      );
      const ms = Date.now() - t0;
      assert.deepEqual(
        results.map((r) => r.stdout),
        Array.from({ length: 12 }, (_, i) => `${i}\n`),
      );
      assert.ok(results.every((r) => r.code === 0));
      assert.equal(conn.stats().execs, 12);
      // 8 at once then 4: about two sleeps, far less than twelve in a row.
      assert.ok(ms < 12 * 400, `took ${ms} ms`);
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
