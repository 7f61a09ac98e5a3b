// Fixed names and paths of the lab: runtime dir, bridge, subnet, netns prefix. Nothing here touches the system.
import path from 'node:path';

/** Machine-wide runtime dir; under root's /run, which hosts never overlay, so upper dirs never overlap lowers. */
export const LAB_DIR = '/run/orch-lab';
export const REGISTRY_FILE = path.join(LAB_DIR, 'registry.json');
export const LOCK_FILE = path.join(LAB_DIR, 'lock');
export const KEY_FILE = path.join(LAB_DIR, 'id_ed25519');

export const BRIDGE = 'orchlab0';
export const BRIDGE_IP = '10.213.0.1';
/** The lab's /16; its first /24 holds the bridge, the fixed names and lab01-lab154, later labNN the next ones. */
export const SUBNET_BASE = '10.213';
export const SUBNET_PREFIX = `${SUBNET_BASE}.0.`;
export const PREFIX_LEN = 16;
export const NETNS_PREFIX = 'orch-';
export const DOMAIN = 'example.com';

/** Top-level directories each host gets a private copy-on-write view of. */
export const OVERLAY_DIRS = ['etc', 'var', 'root', 'home', 'usr', 'srv', 'opt'] as const;

/** Per-host runtime dir: upper/work dirs of the overlays, sshd config, sshd log. */
export function hostDir(short: string): string {
  return path.join(LAB_DIR, 'hosts', short);
}

export function hostLogFile(short: string): string {
  return path.join(hostDir(short), 'sshd.log');
}

export function netnsName(short: string): string {
  return `${NETNS_PREFIX}${short}`;
}

/** The address's last two octets (10.213.<third>.<fourth>). */
function lowOctets(ip: string): [number, number] {
  const [, , third, fourth] = ip.split('.').map((o) => parseInt(o, 10));
  return [third ?? 0, fourth ?? 0];
}

/** Bridge-side veth name: derived from the address so it is unique and under IFNAMSIZ (15). */
export function vethName(ip: string): string {
  const [third, fourth] = lowOctets(ip);
  return third === 0 ? `orchv${fourth}` : `orchv${third}-${fourth}`;
}

/**
 * Fixed MAC for an address on the lab subnet (locally administered 02:0d:d5:00:<third>:<fourth>). A rebuilt host keeps
 * its MAC, so ARP caches in the root namespace and in the other hosts stay right; the bridge gets .1's, so it
 * does not take over a port's MAC (and change) as hosts come and go.
 */
export function macFor(ip: string): string {
  const hex = (o: number): string => o.toString(16).padStart(2, '0');
  const [third, fourth] = lowOctets(ip);
  return `02:0d:d5:00:${hex(third)}:${hex(fourth)}`;
}

/** Console log of a booted host. */
export function consoleLogFile(short: string): string {
  return path.join(hostDir(short), 'console.log');
}

/** The copy-on-write layer of a booted host: its upper dir over the image's root (same layout as `/`). */
export function bootedUpperDir(short: string): string {
  return path.join(hostDir(short), 'upper');
}

/** systemd-nspawn's machine name of a booted host (also names its bridge-side veth `vb-orch-<short>`). */
export function machineName(short: string): string {
  return `${NETNS_PREFIX}${short}`;
}
