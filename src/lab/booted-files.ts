// The files a booted host gets in its own copy-on-write layer before it boots: name, hosts, machine id, SSH host
// keys, network config, the lab key for root and deploy, the lab apt repository. Rendering is pure; writing goes
// only into the host's upper dir, with each directory made like the image's (mode, owner), so the merged view
// keeps the image's permissions.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_APT_DIR } from './mounts.js';
import { PREFIX_LEN, macFor } from './paths.js';
import { runOk } from './run.js';

/** /etc/network/interfaces of a host: ifupdown, as a Debian server without DHCP is set up; fixed MAC per address. */
export function renderInterfaces(ip: string): string {
  return [
    '# Written by orch lab at first boot.',
    'auto lo',
    'iface lo inet loopback',
    '',
    'auto host0',
    'iface host0 inet static',
    `    address ${ip}/${PREFIX_LEN}`,
    `    hwaddress ether ${macFor(ip)}`,
    '',
  ].join('\n');
}

/** The apt source of a host when the lab apt repository exists: it has no route out, like the light hosts. */
export function renderLabAptSource(): string {
  return `deb [trusted=yes] file:${LAB_APT_DIR} ./\n`;
}

export interface HostFilesParams {
  name: string;
  ip: string;
  rootfs: string;
  upper: string;
  hostsFile: string;
  authorizedKey: string;
}

/** Make `rel` (and its parents) in upper, each like the image's directory of that path (or `mode`, root's). */
function mkdirLike(p: HostFilesParams, rel: string, mode = 0o755): string {
  const parts = rel.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts) {
    cur = path.join(cur, part);
    const target = path.join(p.upper, cur);
    if (existsSync(target)) continue;
    const lower = path.join(p.rootfs, cur);
    const st = existsSync(lower) ? statSync(lower) : undefined;
    mkdirSync(target);
    chmodSync(target, st ? st.mode & 0o7777 : mode);
    if (st) chownSync(target, st.uid, st.gid);
  }
  return path.join(p.upper, rel);
}

function put(
  p: HostFilesParams,
  file: string,
  content: string,
  mode: number,
  owner?: { uid: number; gid: number },
): void {
  mkdirLike(p, path.dirname(file));
  const target = path.join(p.upper, file);
  writeFileSync(target, content);
  chmodSync(target, mode);
  if (owner) chownSync(target, owner.uid, owner.gid);
}

/** uid/gid of a user in the image's /etc/passwd. */
function imageUser(rootfs: string, user: string): { uid: number; gid: number } | undefined {
  const line = readFileSync(path.join(rootfs, 'etc', 'passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: parseInt(uid!, 10), gid: parseInt(gid!, 10) };
}

/** Fresh SSH host keys, made here and put in the host's layer (so the lab knows them before the host boots). */
async function hostKeys(p: HostFilesParams): Promise<void> {
  const dir = mkdirLike(p, 'etc/ssh');
  for (const [type, bits] of [
    ['ed25519', []],
    ['ecdsa', ['-b', '256']],
    ['rsa', ['-b', '3072']],
  ] as const) {
    const key = path.join(dir, `ssh_host_${type}_key`);
    await runOk(['ssh-keygen', '-q', '-t', type, ...bits, '-N', '', '-C', `root@${p.name}`, '-f', key]);
    chmodSync(key, 0o600);
    chmodSync(`${key}.pub`, 0o644);
  }
}

/** Write every first-boot file of the host into its upper dir. */
export async function writeHostFiles(p: HostFilesParams): Promise<void> {
  mkdirSync(p.upper, { recursive: true });
  chmodSync(p.upper, 0o755);
  put(p, 'etc/hostname', `${p.name}\n`, 0o644);
  put(p, 'etc/hosts', p.hostsFile, 0o644);
  put(p, 'etc/machine-id', `${randomBytes(16).toString('hex')}\n`, 0o444);
  put(p, 'etc/network/interfaces', renderInterfaces(p.ip), 0o644);
  await hostKeys(p);
  mkdirLike(p, 'root/.ssh', 0o700);
  put(p, 'root/.ssh/authorized_keys', p.authorizedKey, 0o600);
  const deploy = imageUser(p.rootfs, 'deploy');
  if (deploy) {
    mkdirLike(p, 'home/deploy/.ssh', 0o700);
    chownSync(path.join(p.upper, 'home/deploy/.ssh'), deploy.uid, deploy.gid);
    put(p, 'home/deploy/.ssh/authorized_keys', p.authorizedKey, 0o600, deploy);
  }
  if (existsSync(path.join(LAB_APT_DIR, 'Packages'))) {
    put(p, 'etc/apt/sources.list', '', 0o644);
    put(p, 'etc/apt/sources.list.d/orch-lab.list', renderLabAptSource(), 0o644);
  }
}
