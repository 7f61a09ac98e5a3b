// Running commands inside a lab host (nsenter into the namespaces of its sshd) and telling whether a host is alive.
// Commands get a clean environment: nothing from the controller's environment reaches the host.
import { readFileSync, statSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { bootedAlive } from './booted.js';
import { inContainer, leaderPid } from './nspawn.js';
import { findHost, readRegistry } from './registry.js';
import { HOST_ENV, run, type CommandResult } from './run.js';
import { processAlive } from './sshd.js';
import type { RegistryHost } from './types.js';

/**
 * Whether the host runs: a booted host's nspawn and its container's PID 1; a light host's recorded sshd, still in
 * the host's netns (guards against pid reuse).
 */
export function hostAlive(h: RegistryHost): boolean {
  if (h.kind === 'booted') return bootedAlive(h);
  if (!(h.sshdPid > 1) || !processAlive(h.sshdPid)) return false;
  try {
    if (readFileSync(`/proc/${h.sshdPid}/comm`, 'utf8').trim() !== 'sshd') return false;
    return statSync(`/proc/${h.sshdPid}/ns/net`).ino === statSync(`/run/netns/${h.netns}`).ino;
  } catch {
    return false;
  }
}

/** Run argv in a registered host, given its record. */
export function execInRecord(
  h: RegistryHost,
  argv: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  if (argv.length === 0) throw new OrchError('BAD_INPUT', 'execInHost: empty argv');
  let full: string[];
  if (h.kind === 'booted') {
    const leader = h.nspawnPid ? leaderPid(h.nspawnPid) : undefined;
    if (!leader) throw new OrchError('LAB_ERROR', `lab host '${h.name}' is not running`);
    full = inContainer(leader, argv);
  } else
    full = ['nsenter', '--target', String(h.sshdPid), '--net', '--mount', '--uts', '--ipc', '--', ...argv];
  return run(full, {
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: HOST_ENV,
  });
}

/** Run argv inside a lab host (by full or short name); returns its output and exit code, never throws on exit != 0. */
export async function execInHost(
  name: string,
  argv: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const h = findHost(readRegistry(), name);
  if (!h) throw new OrchError('LAB_ERROR', `no lab host '${name}' (orch lab status lists them)`);
  if (!hostAlive(h))
    throw new OrchError('LAB_ERROR', `lab host '${h.name}' is not running (orch lab up ${h.name})`);
  return execInRecord(h, argv, opts);
}
