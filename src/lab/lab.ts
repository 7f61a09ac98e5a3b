// Bringing lab hosts up and down: namespaces, overlays, sshd, registry, /etc/hosts in every host, project export.
// Light hosts are namespaces over this machine's system; booted hosts are Debian images under systemd-nspawn
// (booted.ts). Everything it removes it made itself: netns `orch-*`, veths `orchv*`, bridge orchlab0,
// /run/orch-lab; it ends only processes inside the lab's namespaces and the nspawn processes it started, and
// mounts nothing in the root namespace.
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage } from '../errors.js';
import { allocateAddresses, countNames, fullName, shortName } from './addresses.js';
import { bootHost, teardownBooted } from './booted.js';
import { hostAlive } from './exec.js';
import { exportToProject } from './export.js';
import { pushHostsFile, renderHostsFile } from './hosts-file.js';
import { createHostNetwork, ensureBridge, listLabNetns, removeBridge, removeHostNetwork } from './network.js';
import { ensureImage } from './images.js';
import {
  KEY_FILE,
  LAB_DIR,
  LOCK_FILE,
  OVERLAY_DIRS,
  consoleLogFile,
  hostDir,
  hostLogFile,
  netnsName,
} from './paths.js';
import { checkBootedPrereqs, checkPrereqs } from './prereqs.js';
import { killNetnsProcesses } from './processes.js';
import { readRegistry, withLabLock, writeRegistry } from './registry.js';
import { runOk } from './run.js';
import { sshdConfig, startHostSshd, waitForSshd } from './sshd.js';
import { parseSuite, type Suite } from './suites.js';
import type { LabHost, Registry, RegistryHost } from './types.js';

const DEFAULT_NAMES = ['primary', 'replica'];
const PARALLEL = 16;

/** The API view of a registry record. */
export function toLabHost(h: RegistryHost): LabHost {
  const booted = h.kind === 'booted';
  return {
    name: h.name,
    short: h.short,
    kind: booted ? 'booted' : 'light',
    ...(booted ? { os: h.os } : {}),
    ip: h.ip,
    pid: booted ? (h.nspawnPid ?? 0) : h.sshdPid,
    sshdPid: h.sshdPid,
    alive: hostAlive(h),
    logFile: booted ? consoleLogFile(h.short) : hostLogFile(h.short),
    ...(booted && h.bootMs !== undefined ? { bootMs: h.bootMs } : {}),
  };
}

/** The full names `up` works on: the given names (default primary and replica) plus lab01..labNN from count. */
export function resolveUpNames(names: readonly string[], count?: number): string[] {
  const extra = count ? countNames(count) : [];
  const given = names.length === 0 && extra.length === 0 ? DEFAULT_NAMES : names;
  return [...new Set([...given.map(fullName), ...extra])];
}

/** Run fn over items with at most `limit` at once; returns each outcome. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function ensureKey(): Promise<void> {
  if (existsSync(KEY_FILE)) return;
  mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'orch-lab-controller', '-f', KEY_FILE]);
}

/** Remove everything of one host: its processes, netns + veth, runtime dir. Safe on partial or missing hosts. */
async function teardownHost(
  h: Pick<RegistryHost, 'short' | 'netns'> & Partial<Pick<RegistryHost, 'ip' | 'kind' | 'nspawnPid'>>,
): Promise<void> {
  if (h.kind === 'booted') return teardownBooted(h);
  const left = await killNetnsProcesses(h.netns);
  if (left.length > 0)
    throw new OrchError('LAB_ERROR', `processes ${left.join(', ')} in ${h.netns} did not end`);
  await removeHostNetwork(h.netns, h.ip);
  rmSync(hostDir(h.short), { recursive: true, force: true });
}

/** Build one host from scratch; returns its sshd pid once sshd answers. */
async function buildHost(h: RegistryHost, hostsFile: string): Promise<number> {
  const dir = hostDir(h.short);
  rmSync(dir, { recursive: true, force: true });
  for (const top of OVERLAY_DIRS) {
    mkdirSync(path.join(dir, 'upper', top), { recursive: true, mode: 0o755 });
    mkdirSync(path.join(dir, 'work', top), { recursive: true, mode: 0o700 });
  }
  writeFileSync(path.join(dir, 'sshd_config'), sshdConfig(h.ip), { mode: 0o644 });
  writeFileSync(path.join(dir, 'hosts'), hostsFile, { mode: 0o644 });
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${KEY_FILE}.pub`), { mode: 0o600 });
  await createHostNetwork(h.netns, h.ip);
  const log = hostLogFile(h.short);
  const pid = startHostSshd(h.netns, h.name, dir, log);
  await waitForSshd(pid, h.ip, log);
  return pid;
}

/** A running host of another kind (or OS) than asked for with --os is not silently replaced. */
function checkSameKind(h: RegistryHost, os: Suite): void {
  const want = `booted ${os.name}`;
  const have = h.kind === 'booted' ? `booted ${h.os}` : 'light';
  if (want !== have) {
    throw new OrchError(
      'BAD_INPUT',
      `lab host '${h.name}' runs as a ${have} host, not ${want}: take it down first (orch lab down ${h.short})`,
    );
  }
}

/** Build one host (light or booted) from scratch, recording a booted host's nspawn pid as soon as it exists. */
async function makeHost(h: RegistryHost, hostsFile: string, reg: Registry): Promise<void> {
  if (h.kind !== 'booted') {
    h.sshdPid = await buildHost(h, hostsFile);
    return;
  }
  const { pid, bootMs } = await bootHost(h, hostsFile, (p) => {
    h.nspawnPid = p;
    writeRegistry(reg);
  });
  h.nspawnPid = pid;
  h.bootMs = bootMs;
}

/**
 * Bring up `names` (keeping live ones, rebuilding dead ones) while holding the lock; returns their records.
 * With `os`, new hosts are booted from that suite's image.
 */
async function upLocked(
  names: readonly string[],
  os?: Suite,
): Promise<{ reg: Registry; hosts: RegistryHost[] }> {
  await ensureKey();
  await ensureBridge();
  const reg = readRegistry();
  const byName = new Map(reg.hosts.map((h) => [h.name, h]));
  const alloc = allocateAddresses(
    names.filter((n) => !byName.has(n)),
    reg.hosts,
  );
  const toBuild: RegistryHost[] = [];
  for (const name of names) {
    const known = byName.get(name);
    if (known && hostAlive(known)) {
      if (os) checkSameKind(known, os);
      continue;
    }
    const short = shortName(name);
    if (known) await teardownHost(known);
    // A dead host is made again (same name and address) as asked now, or else as it was.
    const want = os ?? (known?.kind === 'booted' ? parseSuite(known.os ?? '') : undefined);
    const h: RegistryHost = {
      name,
      short,
      ip: known?.ip ?? alloc.get(name)!,
      sshdPid: 0,
      netns: want ? '' : netnsName(short),
      ...(want ? { kind: 'booted' as const, os: want.name, nspawnPid: 0 } : {}),
    };
    byName.set(name, h);
    toBuild.push(h);
  }
  // Record new hosts before building, so a crash mid-way leaves nothing `down` cannot find.
  reg.hosts = [...byName.values()];
  writeRegistry(reg);
  const hostsFile = renderHostsFile(reg.hosts);
  // A leftover netns of the same name (e.g. after a lost registry) is ours: clear it first.
  const present = new Set(await listLabNetns());
  await pool(
    toBuild.filter((h) => present.has(netnsName(h.short))),
    PARALLEL,
    (h) => teardownHost({ short: h.short, netns: netnsName(h.short), ip: h.ip }),
  );
  const results = await pool(toBuild, PARALLEL, (h) => makeHost(h, hostsFile, reg));
  const failures: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`${toBuild[i]!.name}: ${errorMessage(r.reason)}`);
  });
  if (failures.length > 0) {
    const failed = toBuild.filter((_, i) => results[i]!.status === 'rejected');
    await pool(failed, PARALLEL, (h) => teardownHost(h));
    reg.hosts = reg.hosts.filter((h) => !failed.includes(h));
  }
  writeRegistry(reg);
  if (toBuild.length > 0) await pushHostsFile(reg.hosts, renderHostsFile(reg.hosts));
  if (failures.length > 0)
    throw new OrchError('LAB_ERROR', `lab hosts failed to come up:\n${failures.join('\n')}`);
  return { reg, hosts: names.map((n) => reg.hosts.find((h) => h.name === n)!) };
}

/** Take down the given hosts (all when names is undefined) while holding the lock; returns the removed records. */
async function downLocked(
  names: readonly string[] | undefined,
): Promise<{ reg: Registry; removed: RegistryHost[] }> {
  const reg = readRegistry();
  const removed =
    names === undefined
      ? reg.hosts
      : names.map((n) => {
          const h = reg.hosts.find((x) => x.name === n || x.short === n || x.name === fullName(n));
          if (!h) throw new OrchError('BAD_INPUT', `no lab host '${n}'`);
          return h;
        });
  const results = await pool(removed, PARALLEL, (h) => teardownHost(h));
  const failed = results.map((r, i) =>
    r.status === 'rejected' ? `${removed[i]!.name}: ${errorMessage(r.reason)}` : '',
  );
  reg.hosts = reg.hosts.filter((h) => !removed.includes(h));
  if (names === undefined) {
    // Leftovers of an interrupted run: any `orch-*` netns is the lab's.
    const orphans = await listLabNetns();
    await pool(orphans, PARALLEL, (ns) => teardownHost({ netns: ns, short: ns.slice('orch-'.length) }));
    await removeBridge();
    if (existsSync(LAB_DIR)) {
      for (const entry of readdirSync(LAB_DIR)) {
        if (path.join(LAB_DIR, entry) !== LOCK_FILE)
          rmSync(path.join(LAB_DIR, entry), { recursive: true, force: true });
      }
    }
  } else {
    writeRegistry(reg);
    await pushHostsFile(reg.hosts, renderHostsFile(reg.hosts));
  }
  const errors = failed.filter((f) => f !== '');
  if (errors.length > 0)
    throw new OrchError('LAB_ERROR', `lab hosts not fully removed:\n${errors.join('\n')}`);
  return { reg, removed };
}

/** Bring up lab hosts (default primary and replica; `count` adds lab01..labNN) and export them to the project. */
export async function labUp(
  names: string[],
  opts: {
    count?: number;
    project?: ProjectConfig;
    /** Boot the new hosts from this Debian suite's image (built first when missing or stale). */
    os?: string;
    log?: (line: string) => void;
  } = {},
): Promise<LabHost[]> {
  checkPrereqs();
  const suite = opts.os !== undefined ? parseSuite(opts.os) : undefined;
  if (suite) {
    checkBootedPrereqs();
    await ensureImage(suite, opts.log);
  }
  const wanted = resolveUpNames(names, opts.count);
  const { reg, hosts } = await withLabLock(() => upLocked(wanted, suite));
  if (opts.project) exportToProject(opts.project, reg.hosts, { trust: reg.hosts });
  return hosts.map(toLabHost);
}

/** Bring up one host; with updateKnownHosts false its key is not written to the project's known_hosts. */
export async function upHost(
  name: string,
  opts: { updateKnownHosts?: boolean; project?: ProjectConfig } = {},
): Promise<LabHost> {
  checkPrereqs();
  const full = fullName(name);
  const { reg, hosts } = await withLabLock(() => upLocked([full]));
  if (opts.project) {
    const trust = opts.updateKnownHosts === false ? reg.hosts.filter((h) => h.name !== full) : reg.hosts;
    exportToProject(opts.project, reg.hosts, { trust });
  }
  return toLabHost(hosts[0]!);
}

/** Rebuild a host from scratch (fresh host keys); by default its new key is NOT written to known_hosts. */
export async function recreateHost(
  name: string,
  opts: { updateKnownHosts?: boolean; project?: ProjectConfig } = {},
): Promise<LabHost> {
  checkPrereqs();
  const full = fullName(name);
  const { reg, hosts } = await withLabLock(async () => {
    const current = readRegistry().hosts.find((h) => h.name === full);
    // upLocked rebuilds a registered host that is not running, keeping its address and kind.
    if (current) await teardownHost(current);
    return upLocked([full]);
  });
  if (opts.project) {
    const trust = opts.updateKnownHosts === true ? reg.hosts : reg.hosts.filter((h) => h.name !== full);
    exportToProject(opts.project, reg.hosts, { trust });
  }
  return toLabHost(hosts[0]!);
}

/** Take lab hosts down (all, plus bridge and /run/orch-lab, when no names are given); update the project export. */
export async function labDown(names?: string[], opts: { project?: ProjectConfig } = {}): Promise<LabHost[]> {
  checkPrereqs();
  const all = names === undefined || names.length === 0;
  const { reg, removed } = await withLabLock(() => downLocked(all ? undefined : names));
  if (all) {
    try {
      rmdirSync(LAB_DIR);
    } catch {
      /* another lab command started meanwhile, or it is already gone */
    }
  }
  if (opts.project) {
    exportToProject(opts.project, reg.hosts, {
      trust: reg.hosts,
      forget: removed.flatMap((h) => [h.name, h.ip]),
    });
  }
  return removed.map((h) => ({ ...toLabHost(h), alive: false }));
}

/** Every registered host with its liveness. */
export async function labStatus(): Promise<LabHost[]> {
  return readRegistry().hosts.map(toLabHost);
}
