// A throwaway OpenSSH server on 127.0.0.1 for integration tests: temp host key, temp client key, its own
// config, a random high port. It runs as root inside a private mount namespace whose /run is a tmpfs, so the
// privilege-separation directory it needs (/run/sshd) is made there and nothing in the base system changes.
// Stopped by pid only; its temp directory is removed on stop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { HostSpec } from '../../src/inventory/types.js';
import { PREREQ_HINT, UNIT_ONLY } from './prereqs.js';

export interface LocalSshd {
  address: string;
  port: number;
  /** A user the server accepts (root; the only one allowed). */
  user: string;
  /** Private key file the server accepts. */
  clientKey: string;
  dir: string;
  /** The server's current host public key blob. */
  hostKeyBlob(): Buffer;
  /** Restart on the same port with a freshly generated host key (a "reinstalled" host). */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * True when this process may start sshd (root, binaries present); false only under ORCH_TEST_UNIT_ONLY=1 (the
 * caller skips). Otherwise a missing prerequisite throws one line saying what to run: never a silent skip.
 */
export function canRunLocalSshd(): boolean {
  if (UNIT_ONLY) return false;
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/usr/sbin/sshd')) missing.push('/usr/sbin/sshd (openssh-server)');
  if (missing.length) throw new Error(`a local sshd needs ${missing.join(', ')}: ${PREREQ_HINT}`);
  return true;
}

/** Start a server; the returned handle stops it. */
export async function startLocalSshd(): Promise<LocalSshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-sshd-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowUsers root',
      // Root's bash reads ~/.bashrc for commands started by sshd unless SHLVL says it is nested;
      // this keeps a slow rc file out of every exec without touching the base system.
      'SetEnv SHLVL=1',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  let child = await launch(config, port);
  const handle: LocalSshd = {
    address: '127.0.0.1',
    port,
    user: 'root',
    clientKey,
    dir,
    hostKeyBlob: () => Buffer.from(readFileSync(`${hostKey}.pub`, 'utf8').split(' ')[1]!, 'base64'),
    async rotateHostKey() {
      await kill(child);
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      keygen(hostKey);
      child = await launch(config, port);
    },
    async stop() {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A HostSpec for the local server, with overrides. */
export function hostFor(sshd: LocalSshd, over: Partial<HostSpec> = {}): HostSpec {
  return {
    name: 'local-sshd',
    address: sshd.address,
    port: sshd.port,
    user: sshd.user,
    identity: sshd.clientKey,
    groups: [],
    vars: {},
    source: { file: 'test' },
    ...over,
  };
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orch-test', '-f', file]);
}

function launch(config: string, port: number): Promise<ChildProcess> {
  const script = 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$0" -D -e -f "$1"';
  const child = spawn('unshare', ['-m', '/bin/sh', '-c', script, '/usr/sbin/sshd', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(child);
    };
    child.once('exit', (code) => finish(new Error(`sshd exited with ${code}: ${log}`)));
    // Ready when the port accepts connections; bounded to 10 s.
    const probe = (): void => {
      if (done) return;
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        finish();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - started > 10_000)
          finish(new Error(`sshd did not listen on port ${port} within 10s: ${log}`));
        else setTimeout(probe, 50);
      });
    };
    probe();
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
