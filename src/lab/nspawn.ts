// systemd-nspawn for booted hosts: its argv, starting it detached, finding the container's PID 1, waiting for
// the boot, stopping it. Only the nspawn process this lab started (its recorded pid) is ever signalled.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { HOST_ENV, run } from './run.js';
import { processAlive } from './sshd.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface NspawnParams {
  machine: string;
  hostname: string;
  rootfs: string;
  upper: string;
  bridge: string;
  /** Host paths bound read-only at the same path inside. */
  bindRo?: readonly string[];
}

/**
 * The argv: boot the image's systemd as PID 1 (own PID, mount, UTS, IPC namespaces) on a copy-on-write layer,
 * with a veth on the lab bridge. No machined registration and no scope unit: this machine's PID 1 may not be
 * systemd. The controller's resolv.conf, timezone and journal are left out: a host is its own machine.
 */
export function nspawnArgv(p: NspawnParams): string[] {
  return [
    'systemd-nspawn',
    '--quiet',
    '--boot',
    '--register=no',
    '--keep-unit',
    `--machine=${p.machine}`,
    `--hostname=${p.hostname}`,
    `--directory=${p.rootfs}`,
    `--overlay=${p.rootfs}:${p.upper}:/`,
    `--network-bridge=${p.bridge}`,
    '--link-journal=no',
    '--resolv-conf=off',
    '--timezone=off',
    ...(p.bindRo ?? []).map((b) => `--bind-ro=${b}`),
  ];
}

/** Start nspawn detached, console to logFile; returns its pid (the host's anchor). */
export function startNspawn(p: NspawnParams, logFile: string): number {
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const [cmd, ...args] = nspawnArgv(p);
    const child = spawn(cmd!, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...HOST_ENV, SYSTEMD_LOG_COLOR: '0' },
    });
    child.on('error', () => {
      /* reported by containerLeader: the pid never gets a child */
    });
    child.unref();
    if (child.pid === undefined)
      throw new OrchError('LAB_ERROR', `cannot start systemd-nspawn for ${p.hostname}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Whether pid is a live systemd-nspawn (guards against pid reuse). */
export function nspawnAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 1 || !processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd-nspawn';
  } catch {
    return false;
  }
}

/** The container's PID 1 as seen from here: the child of nspawn that is pid 1 of its own PID namespace. */
export function leaderPid(nspawnPid: number): number | undefined {
  let children: string[];
  try {
    children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  for (const c of children) {
    try {
      const nspid = /^NSpid:\s*(.*)$/m
        .exec(readFileSync(`/proc/${c}/status`, 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return parseInt(c, 10);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

/** Wait (bounded) for the container's PID 1 to appear; fails early when nspawn exits. */
export async function waitLeader(
  nspawnPid: number,
  timeoutMs: number,
  logTail: () => string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!nspawnAlive(nspawnPid)) throw new OrchError('LAB_ERROR', `systemd-nspawn exited:\n${logTail()}`);
    const leader = leaderPid(nspawnPid);
    if (leader) return leader;
    await sleep(50);
  }
  throw new OrchError(
    'LAB_ERROR',
    `systemd-nspawn started no container within ${timeoutMs} ms:\n${logTail()}`,
  );
}

/** argv run inside a booted host: every namespace of its PID 1. */
export function inContainer(leader: number, argv: readonly string[]): string[] {
  return ['nsenter', '--target', String(leader), '--all', '--', ...argv];
}

/**
 * Wait (bounded) until systemd in the container has finished booting: `running`, or an error naming the failed
 * units (`degraded`), or a timeout. Until systemd's private socket exists the answer is `offline`: asked again.
 */
export async function waitSystemRunning(leader: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = await bootState(leader, deadline, timeoutMs);
  if (state.text === 'running') return;
  // A unit that fails once at boot under load (seen: bullseye's systemd-user-sessions while the machine was busy)
  // gets one restart; a unit that fails again is reported with its last journal lines.
  const failedUnits = await listFailed(leader);
  if (state.text === 'degraded' && failedUnits.length) {
    await run(inContainer(leader, ['systemctl', 'restart', ...failedUnits]), {
      env: HOST_ENV,
      timeoutMs: 30_000,
    }).catch(() => undefined);
    await run(inContainer(leader, ['systemctl', 'reset-failed']), { env: HOST_ENV }).catch(() => undefined);
    state = await bootState(leader, Math.max(deadline, Date.now() + 5000), timeoutMs);
    if (state.text === 'running') return;
  }
  const still = await listFailed(leader);
  const journal = still.length
    ? await run(
        inContainer(leader, ['journalctl', '--no-pager', '-n', '20', ...still.flatMap((u) => ['-u', u])]),
        {
          env: HOST_ENV,
        },
      ).then(
        (r) => r.stdout.trim(),
        () => '',
      )
    : '';
  throw new OrchError(
    'LAB_ERROR',
    `the host booted to '${state.text || state.stderr}', not 'running'; failed units:\n${still.join('\n') || '(none)'}${journal ? `\n${journal}` : ''}`,
  );
}

/** `systemctl is-system-running --wait`, asked again while systemd is not up yet (`offline`), until the deadline. */
async function bootState(
  leader: number,
  deadline: number,
  timeoutMs: number,
): Promise<{ text: string; stderr: string }> {
  let text = '';
  let stderr = '';
  while (Date.now() < deadline) {
    const r = await run(inContainer(leader, ['systemctl', 'is-system-running', '--wait']), {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      env: HOST_ENV,
    }).catch((err: unknown) => {
      throw new OrchError('LAB_ERROR', `the host did not finish booting within ${timeoutMs} ms`, {
        cause: err,
      });
    });
    text = r.stdout.trim();
    stderr = r.stderr.trim();
    if (text !== 'offline' && text !== '') break;
    await sleep(100);
  }
  return { text, stderr };
}

/** Names of the failed units in the container. */
async function listFailed(leader: number): Promise<string[]> {
  const r = await run(inContainer(leader, ['systemctl', '--failed', '--no-legend', '--plain']), {
    env: HOST_ENV,
  });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((u) => /^[A-Za-z0-9@._:-]+$/.test(u));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (processAlive(pid) && Date.now() < deadline) await sleep(50);
  return !processAlive(pid);
}

/**
 * Power the container off: SIGTERM to the nspawn pid (it asks the container's systemd for a clean poweroff),
 * repeated while waiting, since systemd drops the request while it is too early in boot to handle it. After the
 * bounded wait, SIGKILL the container's PID 1 (ending its PID namespace; nspawn then exits and removes its veth),
 * and last SIGKILL the nspawn pid itself. Nothing but that nspawn and its own child is signalled.
 */
export async function stopNspawn(pid: number, termWaitMs = 15_000): Promise<void> {
  if (!nspawnAlive(pid)) return;
  const deadline = Date.now() + termWaitMs;
  while (Date.now() < deadline) {
    signal(pid, 'SIGTERM');
    if (await waitExit(pid, Math.min(2000, Math.max(0, deadline - Date.now())))) return;
  }
  const leader = leaderPid(pid);
  if (leader) {
    signal(leader, 'SIGKILL');
    if (await waitExit(pid, 5000)) return;
  }
  signal(pid, 'SIGKILL');
  if (!(await waitExit(pid, 5000))) throw new OrchError('LAB_ERROR', `systemd-nspawn ${pid} did not end`);
}
