// Export of the lab to a project, as the admin who provisioned the hosts would do it: the lab key
// (<stateDir>/lab/id_ed25519), <stateDir>/lab/inventory.yaml, and the hosts' keys in the project's known_hosts.
// It writes only those three files (and the key's .pub); known_hosts lines of other hosts are kept.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { renderInventory } from './inventory-file.js';
import { mergeKnownHosts, parsePublicKey, type HostKeys } from './known-hosts.js';
import { KEY_FILE, hostDir } from './paths.js';
import type { RegistryHost } from './types.js';

/** Where the exported key and inventory live for a project. */
export function projectLabFiles(project: ProjectConfig): { dir: string; key: string; inventory: string } {
  const dir = path.join(project.stateDir, 'lab');
  return { dir, key: path.join(dir, 'id_ed25519'), inventory: path.join(dir, 'inventory.yaml') };
}

/** The host's public host keys as `keytype base64`, read from its overlay's upper dir. */
export function readHostKeys(h: RegistryHost): HostKeys {
  const sshDir = path.join(hostDir(h.short), 'upper', 'etc', 'ssh');
  const keys: string[] = [];
  for (const type of ['ed25519', 'ecdsa']) {
    const file = path.join(sshDir, `ssh_host_${type}_key.pub`);
    if (!existsSync(file)) continue;
    const k = parsePublicKey(readFileSync(file, 'utf8'));
    if (k) keys.push(k);
  }
  return { name: h.name, ip: h.ip, keys };
}

function writeAtomic(file: string, content: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export interface ExportOptions {
  /** Hosts whose keys go into known_hosts (their old lines are replaced). */
  trust: readonly RegistryHost[];
  /** Names/addresses whose known_hosts lines are removed (hosts taken down). */
  forget?: readonly string[];
}

/** Write key, inventory and known_hosts for the project, given every lab host now registered. */
export function exportToProject(
  project: ProjectConfig,
  hosts: readonly RegistryHost[],
  opts: ExportOptions,
): void {
  const files = projectLabFiles(project);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  if (existsSync(KEY_FILE)) {
    copyFileSync(KEY_FILE, files.key);
    chmodSync(files.key, 0o600);
    if (existsSync(`${KEY_FILE}.pub`)) copyFileSync(`${KEY_FILE}.pub`, `${files.key}.pub`);
  }
  writeAtomic(files.inventory, renderInventory(files.key, hosts), 0o644);
  const kh = project.knownHostsFile;
  const before = existsSync(kh) ? readFileSync(kh, 'utf8') : '';
  const after = mergeKnownHosts(before, opts.trust.map(readHostKeys), opts.forget ?? []);
  if (after !== before || !existsSync(kh)) writeAtomic(kh, after, 0o644);
}
