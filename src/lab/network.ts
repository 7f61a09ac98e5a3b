// Lab networking: the bridge orchlab0 (10.213.0.1/16) in the root namespace and one netns + veth pair per host.
// It never touches the machine's own interfaces, routes or default route; hosts get no default route.
import { OrchError } from '../errors.js';
import { BRIDGE, BRIDGE_IP, NETNS_PREFIX, PREFIX_LEN, macFor, vethName } from './paths.js';
import { run, runOk } from './run.js';

/** Whether a link exists in the root namespace. */
async function linkExists(name: string): Promise<boolean> {
  return (await run(['ip', 'link', 'show', 'dev', name])).code === 0;
}

/** Create the bridge with its address if missing; bring it up. Idempotent. */
export async function ensureBridge(): Promise<void> {
  if (!(await linkExists(BRIDGE))) {
    const r = await run([
      'ip',
      'link',
      'add',
      'name',
      BRIDGE,
      'address',
      macFor(BRIDGE_IP),
      'type',
      'bridge',
    ]);
    if (r.code !== 0 && !(await linkExists(BRIDGE))) {
      throw new OrchError('LAB_ERROR', `cannot create bridge ${BRIDGE}: ${r.stderr.trim()}`);
    }
  }
  const addrs = await runOk(['ip', '-o', '-4', 'addr', 'show', 'dev', BRIDGE]);
  // A bridge made by an older build has the /24 only; the /16 beside it reaches the hosts past the first /24.
  if (!addrs.stdout.includes(` ${BRIDGE_IP}/${PREFIX_LEN} `)) {
    await runOk(['ip', 'addr', 'add', `${BRIDGE_IP}/${PREFIX_LEN}`, 'dev', BRIDGE]);
  }
  await runOk(['ip', 'link', 'set', 'dev', BRIDGE, 'up']);
}

/** Remove the bridge if present. */
export async function removeBridge(): Promise<void> {
  if (await linkExists(BRIDGE)) await runOk(['ip', 'link', 'del', 'dev', BRIDGE]);
}

/** The lab's network namespaces currently present (`orch-*`). */
export async function listLabNetns(): Promise<string[]> {
  const r = await runOk(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
}

/** Create the host's netns with `eth0` (its address, up) wired to the bridge, and `lo` up. No default route. */
export async function createHostNetwork(netns: string, ip: string): Promise<void> {
  const veth = vethName(ip);
  await runOk(['ip', 'netns', 'add', netns]);
  // Created with its peer already inside the namespace and named eth0: no rename step, no name clash in the root ns.
  await runOk(['ip', 'link', 'add', 'name', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await runOk(['ip', 'link', 'set', 'dev', veth, 'master', BRIDGE]);
  await runOk(['ip', 'link', 'set', 'dev', veth, 'up']);
  await runOk(['ip', '-n', netns, 'link', 'set', 'dev', 'eth0', 'address', macFor(ip)]);
  await runOk(['ip', '-n', netns, 'addr', 'add', `${ip}/${PREFIX_LEN}`, 'dev', 'eth0']);
  await runOk(['ip', '-n', netns, 'link', 'set', 'dev', 'eth0', 'up']);
  await runOk(['ip', '-n', netns, 'link', 'set', 'dev', 'lo', 'up']);
}

/** Delete the host's netns (which destroys its veth pair) and the bridge-side veth if it somehow survived. */
export async function removeHostNetwork(netns: string, ip: string | undefined): Promise<void> {
  const present = (await listLabNetns()).includes(netns);
  if (present) await runOk(['ip', 'netns', 'del', netns]);
  if (ip !== undefined) {
    const veth = vethName(ip);
    if (await linkExists(veth)) await run(['ip', 'link', 'del', 'dev', veth]);
  }
}

/** The pids of the processes in a netns (`ip netns pids`); [] when the netns is gone. */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', netns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 1);
}
