// Pure naming and address allocation for lab hosts. No I/O.
import { OrchError } from '../errors.js';
import { DOMAIN, SUBNET_BASE, SUBNET_PREFIX } from './paths.js';

const FIXED: Record<string, number> = { [`primary.${DOMAIN}`]: 11, [`replica.${DOMAIN}`]: 12 };
const FREE_FIRST = 20;
const FREE_LAST = 99;
const COUNT_BASE = 100;
/** labNN up to this many sit at .101-.254 of the first /24, as they always did; the rest in the /24s after it. */
const COUNT_FIRST_BLOCK = 154;
const COUNT_MAX = 500;
/** Hosts per further /24 (.1-.250), so no address ends in .0 or .255. */
const BLOCK_SIZE = 250;

/** The full name of a host: a bare label like `primary` means `primary.example.com`. */
export function fullName(name: string): string {
  const n = name.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(n)) {
    throw new OrchError('BAD_INPUT', `lab host name '${name}' is not a valid DNS name`);
  }
  return n.includes('.') ? n : `${n}.${DOMAIN}`;
}

/** The first label of a full name; it names the netns and the runtime dir. */
export function shortName(name: string): string {
  return name.split('.')[0]!;
}

/** The names `--count N` stands for: lab01.example.com .. labNN.example.com. */
export function countNames(count: number): string[] {
  if (!Number.isInteger(count) || count < 0 || count > COUNT_MAX) {
    throw new OrchError('BAD_INPUT', `--count must be an integer from 0 to ${COUNT_MAX}`);
  }
  return Array.from({ length: count }, (_, i) => `lab${String(i + 1).padStart(2, '0')}.${DOMAIN}`);
}

/** The address a name always gets, if it has a fixed one (primary, replica, labNN). */
export function fixedAddress(name: string): string | undefined {
  if (FIXED[name] !== undefined) return `${SUBNET_PREFIX}${FIXED[name]}`;
  const m = /^lab(\d{2,3})\.example\.com$/.exec(name);
  if (m) {
    const n = parseInt(m[1]!, 10);
    if (n >= 1 && n <= COUNT_FIRST_BLOCK) return `${SUBNET_PREFIX}${COUNT_BASE + n}`;
    if (n > COUNT_FIRST_BLOCK && n <= COUNT_MAX) {
      const k = n - COUNT_FIRST_BLOCK - 1;
      return `${SUBNET_BASE}.${1 + Math.floor(k / BLOCK_SIZE)}.${1 + (k % BLOCK_SIZE)}`;
    }
  }
  return undefined;
}

/**
 * Addresses for new hosts, given the addresses already taken: fixed ones for well-known names,
 * the next free one from .20 for any other name. Throws when a short name or an address would clash.
 */
export function allocateAddresses(
  newNames: readonly string[],
  existing: ReadonlyArray<{ name: string; ip: string }>,
): Map<string, string> {
  const taken = new Map<string, string>(existing.map((h) => [h.ip, h.name]));
  const shorts = new Map<string, string>(existing.map((h) => [shortName(h.name), h.name]));
  const out = new Map<string, string>();
  for (const name of newNames) {
    if (out.has(name)) continue;
    const short = shortName(name);
    const other = shorts.get(short);
    if (other !== undefined && other !== name) {
      throw new OrchError(
        'BAD_INPUT',
        `lab host '${name}' clashes with '${other}': both would be netns orch-${short}`,
      );
    }
    let ip = fixedAddress(name);
    if (ip !== undefined) {
      const holder = taken.get(ip);
      if (holder !== undefined && holder !== name) {
        throw new OrchError('LAB_ERROR', `address ${ip} of '${name}' is already used by '${holder}'`);
      }
    } else {
      for (let i = FREE_FIRST; i <= FREE_LAST && ip === undefined; i++) {
        if (!taken.has(`${SUBNET_PREFIX}${i}`)) ip = `${SUBNET_PREFIX}${i}`;
      }
      if (ip === undefined) throw new OrchError('LAB_ERROR', `no free lab address left for '${name}'`);
    }
    taken.set(ip, name);
    shorts.set(short, name);
    out.set(name, ip);
  }
  return out;
}
