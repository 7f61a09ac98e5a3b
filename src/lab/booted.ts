// Booted hosts: a Debian image booted with systemd as PID 1 by systemd-nspawn, on its own copy-on-write layer,
// with a veth on the lab bridge. Bringing one up (first-boot files, nspawn, bounded wait for the boot and sshd)
// and taking it down (the recorded nspawn pid only, then its layer).
import { readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { writeHostFiles } from './booted-files.js';
import { imageInfo, imageRootfs } from './image.js';
import { LAB_APT_DIR } from './mounts.js';
import { startNspawn, stopNspawn, waitLeader, waitSystemRunning, nspawnAlive, leaderPid } from './nspawn.js';
import { BRIDGE, KEY_FILE, bootedUpperDir, consoleLogFile, hostDir, machineName } from './paths.js';
import { waitForSshd } from './sshd.js';
import { run } from './run.js';
import { parseSuite, type Suite } from './suites.js';
import type { RegistryHost } from './types.js';

const LEADER_TIMEOUT_MS = 15_000;
const BOOT_TIMEOUT_MS = 120_000;

/** Whether a booted host's nspawn runs and its container has a PID 1. */
export function bootedAlive(h: RegistryHost): boolean {
  return nspawnAlive(h.nspawnPid) && leaderPid(h.nspawnPid!) !== undefined;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no console log)';
  }
}

/** The image a host of this suite boots from; LAB_ERROR telling how to build it when it is not ready. */
export function readyImage(suite: Suite): string {
  const info = imageInfo(suite);
  if (info.state !== 'ready') {
    const why = info.state === 'absent' ? 'is not built' : 'was built from an older recipe';
    throw new OrchError(
      'LAB_ERROR',
      `the ${suite.name} image ${why} (${info.path}): run 'orch lab image build ${suite.name}'`,
    );
  }
  return imageRootfs(suite);
}

/**
 * A container of this machine name that the registry lost (its nspawn still runs) holds the veth nspawn would
 * create; say so plainly instead of nspawn's "File exists". Names over 15 characters get a hashed veth name.
 */
async function refuseLeftover(machine: string): Promise<void> {
  const veth = `vb-${machine}`;
  if (veth.length > 15) return;
  if ((await run(['ip', 'link', 'show', 'dev', veth])).code === 0) {
    throw new OrchError(
      'LAB_ERROR',
      `${veth} exists: a container '${machine}' not in the lab registry still runs; stop its systemd-nspawn first`,
    );
  }
}

/**
 * Boot one host from its suite's image; `started` gets the nspawn pid as soon as it exists (so the registry
 * records it before the boot is waited for). Returns the pid and the boot time; on failure nothing is left running.
 */
export async function bootHost(
  h: RegistryHost,
  hostsFile: string,
  started: (pid: number) => void,
): Promise<{ pid: number; bootMs: number }> {
  const suite = parseSuite(h.os ?? '');
  const rootfs = readyImage(suite);
  const dir = hostDir(h.short);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  await writeHostFiles({
    name: h.name,
    ip: h.ip,
    rootfs,
    upper: bootedUpperDir(h.short),
    hostsFile,
    authorizedKey: readFileSync(`${KEY_FILE}.pub`, 'utf8'),
  });
  await refuseLeftover(machineName(h.short));
  const log = consoleLogFile(h.short);
  const t0 = Date.now();
  const pid = startNspawn(
    {
      machine: machineName(h.short),
      hostname: h.name,
      rootfs,
      upper: bootedUpperDir(h.short),
      bridge: BRIDGE,
      bindRo: existsSync(LAB_APT_DIR) ? [LAB_APT_DIR] : [],
    },
    log,
  );
  started(pid);
  try {
    const leader = await waitLeader(pid, LEADER_TIMEOUT_MS, () => tail(log));
    await waitSystemRunning(leader, BOOT_TIMEOUT_MS);
    await waitForSshd(pid, h.ip, log, 30_000);
  } catch (err) {
    await stopNspawn(pid);
    throw err;
  }
  return { pid, bootMs: Date.now() - t0 };
}

/** Power the host off (SIGTERM to its nspawn, bounded, then SIGKILL that pid) and remove its layer. */
export async function teardownBooted(h: Pick<RegistryHost, 'short' | 'nspawnPid'>): Promise<void> {
  if (h.nspawnPid) await stopNspawn(h.nspawnPid);
  rmSync(hostDir(h.short), { recursive: true, force: true });
}
