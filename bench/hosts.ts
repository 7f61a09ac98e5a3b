// The bench's lab hosts: bringing up lab01..labNN (remembering which were already running, so only the bench's own
// are taken down), their host keys under the proxied names, resetting the workload between first-converge runs,
// and reading each host's sshd log from an offset. It never names other engineers' hosts.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  openSync,
  readSync,
  closeSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../src/config/project.js';
import { execInHost, labDown, labStatus, labUp, projectLabFiles, type LabHost } from '../src/lab/index.js';

/** inventory/hosts.yaml of a bench project: the hosts by address, root with the lab's key (no proxy). */
export function writeLabInventory(root: string, project: ProjectConfig, hosts: readonly LabHost[]): void {
  mkdirSync(path.join(root, 'inventory'), { recursive: true });
  const key = JSON.stringify(projectLabFiles(project).key);
  writeFileSync(
    path.join(root, 'inventory', 'hosts.yaml'),
    `defaults: { user: root, identity: ${key} }\nhosts:\n${hosts.map((h) => `  ${h.name}: { address: ${h.ip} }`).join('\n')}\n`,
  );
}

/** lab01..labNN as full names (the lab's --count naming). */
export function benchHostNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `lab${String(i + 1).padStart(2, '0')}.example.com`);
}

export class BenchLab {
  /** Hosts this bench brought up (and will take down). */
  private readonly made = new Set<string>();
  hosts: LabHost[] = [];

  constructor(private readonly project: ProjectConfig) {}

  /** Ensure lab01..labNN are up; returns them in order. */
  async ensure(n: number): Promise<LabHost[]> {
    const wanted = benchHostNames(n);
    const before = new Map((await labStatus()).map((h) => [h.name, h.alive]));
    const up = await labUp([], { count: n, project: this.project });
    for (const name of wanted) if (before.get(name) !== true) this.made.add(name);
    this.hosts = wanted.map((w) => up.find((h) => h.name === w)!);
    return this.hosts;
  }

  /** Take down only the hosts this bench made. */
  async down(): Promise<string[]> {
    const names = [...this.made];
    if (names.length > 0) await labDown(names, { project: this.project });
    this.made.clear();
    return names;
  }
}

/** `keytype base64` keys per host name, from the known_hosts the lab exported (`name,ip keytype base64`). */
export function keysByName(knownHosts: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of knownHosts.split('\n')) {
    const [names, type, b64] = line.trim().split(/\s+/);
    if (!names || !type || !b64 || names.startsWith('#')) continue;
    for (const n of names.split(',')) out.set(n, [...(out.get(n) ?? []), `${type} ${b64}`]);
  }
  return out;
}

/** known_hosts lines for hosts reached through proxies: `[address]:port,[name]:port keytype base64`. */
export function proxiedKnownHosts(
  hosts: ReadonlyArray<{ name: string; address: string; port: number }>,
  keys: Map<string, string[]>,
): string {
  const lines: string[] = [];
  for (const h of hosts) {
    for (const k of keys.get(h.name) ?? []) lines.push(`[${h.address}]:${h.port},[${h.name}]:${h.port} ${k}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The shell script undoing the workload on a host (untimed, between first-converge runs). */
export const RESET_SCRIPT = [
  '[ -x /etc/init.d/benchsvc ] && /etc/init.d/benchsvc stop >/dev/null 2>&1',
  'rm -rf /etc/benchapp /var/lib/benchapp /var/log/benchapp /etc/init.d/benchsvc /var/tmp/benchsvc.starts /run/benchsvc.pid',
  'true',
].join('\n');

/** Run fn over items, at most limit at once. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Undo the workload on every host (inside the host, not over SSH, so no sshd log lines are added). */
export async function resetHosts(hosts: readonly LabHost[]): Promise<void> {
  await eachLimited(hosts, 8, async (h) => {
    const r = await execInHost(h.name, ['/bin/sh', '-c', RESET_SCRIPT], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`reset of ${h.name} failed: ${r.stderr}`);
  });
}

/** Current size of each host's sshd log (the offset a run's slice starts at). */
export function logOffsets(hosts: readonly LabHost[]): Map<string, number> {
  return new Map(hosts.map((h) => [h.name, existsSync(h.logFile) ? statSync(h.logFile).size : 0]));
}

/** What each host's sshd log gained since `offsets`. */
export function logSlices(hosts: readonly LabHost[], offsets: Map<string, number>): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of hosts) {
    const from = offsets.get(h.name) ?? 0;
    const size = existsSync(h.logFile) ? statSync(h.logFile).size : 0;
    if (size <= from) {
      out.set(h.name, '');
      continue;
    }
    const buf = Buffer.alloc(size - from);
    const fd = openSync(h.logFile, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    out.set(h.name, buf.toString('utf8'));
  }
  return out;
}

/** The exported known_hosts text of the project (empty when missing). */
export function readKnownHosts(project: ProjectConfig): string {
  return existsSync(project.knownHostsFile) ? readFileSync(project.knownHostsFile, 'utf8') : '';
}
