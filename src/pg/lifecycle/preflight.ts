// What the lifecycle verbs read before they act: every node's state, the one primary the hosts have, and the
// refusals that keep a verb from starting (PG_REFUSED: nothing was changed).
import { OrchError } from '../../errors.js';
import type { Cluster } from './cluster.js';
import type { PgNode } from './node.js';
import { lsnValue, probeNode, type NodeState } from './probe.js';

export const refuse = (message: string): OrchError => new OrchError('PG_REFUSED', `refused: ${message}`);

/** Every node's state; refuses when a node is unreachable or cannot be read. */
export async function readCluster(c: Cluster): Promise<Map<string, NodeState>> {
  for (const [h, why] of c.unreachable) throw refuse(`${h} is unreachable (${why})`);
  const states = await Promise.all([...c.nodes.values()].map((n) => probeNode(n)));
  const out = new Map(states.map((s) => [s.host, s]));
  for (const s of states) if (s.error) throw refuse(`${s.host}: ${s.error}`);
  return out;
}

/** The running servers out of recovery. */
export function primariesOf(states: ReadonlyMap<string, NodeState>): NodeState[] {
  return [...states.values()].filter((s) => s.running && s.inRecovery === false);
}

/** The one primary the hosts have, which must be the recorded (or pillar) primary. */
export function currentPrimary(c: Cluster, states: ReadonlyMap<string, NodeState>): PgNode {
  const primaries = primariesOf(states);
  if (primaries.length > 1)
    throw refuse(
      `${primaries.length} servers are out of recovery (${primaries.map((p) => p.host).join(', ')}): split brain; resolve it by hand first`,
    );
  if (primaries.length === 0) throw refuse('no running primary in the cluster (for a failover, use promote)');
  const p = primaries[0]!;
  if (p.host !== c.pg.primary)
    throw refuse(
      `the hosts have ${p.host} as primary but the ${c.record ? 'recorded topology' : 'pillar'} says ${String(c.pg.primary)}; ` +
        '`orch pg follow` records what the hosts say',
    );
  return c.nodes.get(p.host)!;
}

/** Names a standby's receiver may report for upstream: its host name and address. */
export function upstreamNames(c: Cluster, host: string): string[] {
  const a = c.addressOf(host);
  return a && a !== host ? [host, a] : [host];
}

/** Bytes the standby's replay is behind the primary's current WAL position. */
export function replayLag(primary: NodeState, standby: NodeState): bigint | null {
  if (!primary.currentLsn || !standby.replayLsn) return null;
  const d = lsnValue(primary.currentLsn) - lsnValue(standby.replayLsn);
  return d < 0n ? 0n : d;
}

/** Why a standby cannot follow the primary (undefined when it can): it must stream from it, unpaused, same system. */
export function standbyProblem(c: Cluster, primary: NodeState, st: NodeState): string | undefined {
  if (!st.running) return 'it is not running';
  if (st.inRecovery !== true) return 'it is not a standby';
  if (st.systemId !== primary.systemId)
    return `it is another system (${st.systemId ?? '?'} vs ${primary.systemId ?? '?'})`;
  if (st.paused) return 'its replay is paused (pg_wal_replay_resume() first)';
  const r = st.receiver;
  if (!r || r.status !== 'streaming') return `it is not streaming (${r ? r.status : 'no WAL receiver'})`;
  if (!r.senderHost || !upstreamNames(c, primary.host).includes(r.senderHost))
    return `it streams from ${r.senderHost ?? '?'}, not from ${primary.host}`;
  if (st.timeline !== primary.timeline)
    return `it is on timeline ${st.timeline}, the primary on ${primary.timeline}`;
  return undefined;
}
