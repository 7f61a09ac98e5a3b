// The cluster a lifecycle verb works on: from one named host's postgres pillar, every node of `postgres.nodes`,
// each connected over SSH for the whole verb, with its facts, its pillar (the recorded topology laid over it) and
// its PgNode. Secrets are not decrypted: the verbs connect with the nodes' .pgpass, never with the pillar password.
import type { ProjectConfig } from '../../config/project.js';
import { OrchError } from '../../errors.js';
import { isInputCode } from '../../errors/codes.js';
import { gatherFacts } from '../../facts/gather.js';
import { loadInventory } from '../../inventory/load.js';
import type { HostSpec } from '../../inventory/types.js';
import { compilePillar } from '../../pillar/load.js';
import { fleetOptionsFor, onEachHost } from '../../transport/fleet.js';
import type { Connection } from '../../transport/types.js';
import { pgNode, type PgNode } from './node.js';
import { clusterKey, nodesOf, overlayTopology, type TopologyRecord } from './topology.js';

type Pillar = Record<string, unknown>;

export interface Cluster {
  key: string;
  /** The postgres pillar of the named host, topology laid over (primary, slots, nodes, port, ...). */
  pg: Pillar;
  record?: TopologyRecord;
  nodes: Map<string, PgNode>;
  /** Nodes that could not be connected, with why. */
  unreachable: Map<string, string>;
  /** Address of each node (postgres.nodes, else the inventory's). */
  addressOf(host: string): string | undefined;
}

export interface ClusterOptions {
  acceptNewHostKeys?: boolean;
}

/** The inventory's hosts of the cluster host belongs to (node names must be inventory hosts). */
export async function clusterHosts(
  project: ProjectConfig,
  host: string,
  records: ReadonlyMap<string, TopologyRecord>,
): Promise<{ key: string; pg: Pillar; hosts: HostSpec[]; record?: TopologyRecord }> {
  const inv = loadInventory(project);
  const spec = inv.hosts.get(host);
  if (!spec) throw new OrchError('UNKNOWN_TARGET', `no host named ${host} in the inventory`);
  const pillar = await compilePillar(project, spec);
  overlayTopology(pillar, records);
  const pg = pillar.postgres as Pillar | undefined;
  const key = pg ? clusterKey(pg) : undefined;
  if (!pg || !key) throw new OrchError('BAD_INPUT', `${host} has no postgres pillar with a primary`);
  const hosts: HostSpec[] = [];
  for (const name of nodesOf(pg)) {
    const h = inv.hosts.get(name);
    if (!h)
      throw new OrchError('UNKNOWN_TARGET', `postgres.nodes names ${name}, which is not in the inventory`);
    hosts.push(h);
  }
  return { key, pg, hosts, record: records.get(key) };
}

/** Connect every node of host's cluster, run fn with them, then close the connections. */
export async function withCluster<T>(
  project: ProjectConfig,
  host: string,
  records: ReadonlyMap<string, TopologyRecord>,
  opts: ClusterOptions,
  fn: (c: Cluster) => Promise<T>,
): Promise<T> {
  const { key, pg, hosts, record } = await clusterHosts(project, host, records);
  const nodes = new Map<string, PgNode>();
  const unreachable = new Map<string, string>();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let ready!: () => void;
  const allReady = new Promise<void>((r) => (ready = r));
  const arrived = () => {
    if (nodes.size + unreachable.size >= hosts.length) ready();
  };
  let inputError: unknown;
  const work = async (conn: Connection, clock: { pause<R>(p: Promise<R>): Promise<R> }) => {
    try {
      const facts = await gatherFacts(conn);
      const pillar = await compilePillar(project, conn.host, { facts });
      overlayTopology(pillar, records);
      nodes.set(conn.host.name, pgNode(conn, facts, (pillar.postgres ?? {}) as Pillar));
    } catch (err) {
      if (err instanceof OrchError && isInputCode(err.code)) inputError ??= err;
      throw err;
    } finally {
      arrived();
    }
    await clock.pause(released);
  };
  const fleet = onEachHost(
    hosts,
    fleetOptionsFor(project, { acceptNewHostKeys: opts.acceptNewHostKeys }),
    work,
    {
      onDone: (o) => {
        if (!o.ok) {
          nodes.delete(o.host.name);
          unreachable.set(o.host.name, o.error.message);
          arrived();
        }
      },
    },
  );
  await allReady;
  try {
    if (inputError) throw inputError;
    const inventory = new Map(hosts.map((h) => [h.name, h.address]));
    const addrs = (pg.nodes ?? {}) as Record<string, unknown>;
    return await fn({
      key,
      pg,
      record,
      nodes,
      unreachable,
      addressOf: (h) => (typeof addrs[h] === 'string' ? (addrs[h] as string) : inventory.get(h)),
    });
  } finally {
    release();
    await fleet;
  }
}
