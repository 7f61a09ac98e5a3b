// A host's sshd: its config, starting it inside fresh namespaces, waiting until it answers.
// The sshd process is the anchor of the host: its pid is what nsenter targets and what `down` ends.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { OrchError } from '../errors.js';
import { buildSetupScript } from './mounts.js';

/** sshd_config of a lab host: key-only root login, no PAM, OpenSSH's default MaxSessions, pid file in /run. */
export function sshdConfig(ip: string): string {
  return [
    '# orch lab host sshd config (generated)',
    `ListenAddress ${ip}:22`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'HostKey /etc/ssh/ssh_host_ecdsa_key',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes yes',
    'MaxSessions 10',
    'PidFile /run/sshd.pid',
    'UseDNS no',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/**
 * Start the host: `ip netns exec <ns> unshare ... /bin/sh -c <setup>; exec sshd`. Every step execs, so the
 * returned pid is sshd's. stdout/stderr go to the log file; the process is detached and outlives the caller.
 */
export function startHostSshd(netns: string, name: string, dir: string, logFile: string): number {
  const script = buildSetupScript({ name, dir });
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'unshare',
        '--mount',
        '--uts',
        '--ipc',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        script,
      ],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
      },
    );
    child.on('error', () => {
      /* reported by waitForSshd: the pid never answers */
    });
    child.unref();
    if (child.pid === undefined) throw new OrchError('LAB_ERROR', `cannot start the host ${name}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Whether a pid is a live (not zombie) process. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Read the SSH banner from ip:22 once; true when it starts with SSH-. */
function probeBanner(ip: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: 22 });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

/** Wait (bounded) until sshd answers on ip:22; fail early with the log's tail if the process died. */
export async function waitForSshd(
  pid: number,
  ip: string,
  logFile: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) {
      throw new OrchError('LAB_ERROR', `host at ${ip} failed to start; ${logFile}:\n${logTail(logFile)}`);
    }
    if (await probeBanner(ip, 1000)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new OrchError(
    'LAB_ERROR',
    `sshd at ${ip} did not answer within ${timeoutMs} ms; ${logFile}:\n${logTail(logFile)}`,
  );
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
