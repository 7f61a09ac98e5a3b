// The recorded topology of a replication cluster: which node is the primary and what each standby streams from,
// with an epoch that every lifecycle verb raises by one. The hosts are the truth; this record is what the formula
// reads so that `orch apply` builds towards the current primary instead of the pillar's initial one. Pure.
import { OrchError } from '../../errors.js';

export interface StandbyEntry {
  /** The host this standby streams from. */
  upstream: string;
  /** Its physical slot on that upstream. */
  slot: string;
}

export interface TopologyRecord {
  /** Which cluster (clusterKey of the postgres pillar). */
  cluster: string;
  /** 1 for the first record, one more for each verb that changed it. */
  epoch: number;
  primary: string;
  standbys: Record<string, StandbyEntry>;
  /** The primary's timeline when the record was written. */
  timeline: number | null;
  /** The verb and job that wrote it. */
  verb: string;
  jid?: string;
  updatedAt: string;
}

/** The store side of topology records (both job stores implement it). */
export interface TopologyStore {
  listTopologies(): Promise<TopologyRecord[]>;
  /** Write rec with epoch expectEpoch + 1 when the stored epoch is expectEpoch (0: no record yet); false when
   * another verb wrote first. */
  putTopology(rec: Omit<TopologyRecord, 'epoch'>, expectEpoch: number): Promise<boolean>;
}

type Pillar = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The key of the cluster a postgres pillar describes: `postgres.topology_key` when set, else the pillar's initial
 * primary, port and cluster name. The pillar's `primary` is never rewritten by the verbs, so the key is stable.
 */
export function clusterKey(pg: Pillar): string | undefined {
  if (typeof pg.topology_key === 'string' && pg.topology_key !== '') return pg.topology_key;
  if (typeof pg.primary !== 'string' || pg.primary === '') return undefined;
  const port = typeof pg.port === 'number' || typeof pg.port === 'string' ? String(pg.port) : '5432';
  const cluster = typeof pg.cluster === 'string' ? pg.cluster : 'main';
  return `${pg.primary}:${port}/${cluster}`;
}

/** The slot a node streams through when the pillar names none for it (a former primary): its name, folded. */
export function slotNameFor(host: string): string {
  return host
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
}

/** The slot of each node but the primary: the pillar's slot name when it has one, else slotNameFor. */
export function slotsFor(pg: Pillar, primary: string): Record<string, string> {
  const pillarSlots = isObject(pg.slots) ? pg.slots : {};
  const out: Record<string, string> = {};
  for (const node of nodesOf(pg)) {
    if (node === primary) continue;
    const s = pillarSlots[node];
    out[node] = typeof s === 'string' && s !== '' ? s : slotNameFor(node);
  }
  return out;
}

/** The node names of the cluster: postgres.nodes, else the primary and the slots' hosts. */
export function nodesOf(pg: Pillar): string[] {
  if (isObject(pg.nodes)) return Object.keys(pg.nodes);
  const out = typeof pg.primary === 'string' ? [pg.primary] : [];
  if (isObject(pg.slots)) for (const h of Object.keys(pg.slots)) if (!out.includes(h)) out.push(h);
  return out;
}

/**
 * The pillar as the formula should see it once a topology is recorded: `primary` is the recorded primary and
 * `slots` holds a slot for every other node (recorded ones first, then the pillar's for nodes added since).
 * `initial_primary` keeps the pillar's value. Changes pillar in place; a pillar of another cluster is left alone.
 */
export function overlayTopology(pillar: Pillar, records: ReadonlyMap<string, TopologyRecord>): void {
  const pg = pillar.postgres;
  if (!isObject(pg)) return;
  const key = clusterKey(pg);
  const rec = key === undefined ? undefined : records.get(key);
  if (!rec) return;
  const pillarSlots = isObject(pg.slots) ? pg.slots : {};
  const slots: Record<string, unknown> = {};
  for (const [h, s] of Object.entries(pillarSlots)) if (h !== rec.primary) slots[h] = s;
  for (const [h, e] of Object.entries(rec.standbys)) slots[h] = e.slot;
  // The key must stay what it was computed from, whatever primary the formula now sees.
  if (pg.topology_key === undefined) pg.topology_key = key;
  pg.initial_primary = pg.primary;
  pg.primary = rec.primary;
  pg.slots = slots;
  pg.topology_epoch = rec.epoch;
}

/** Parse a stored record (JSON text or object); throws JOB_STORE_ERROR on a shape this orch cannot read. */
export function parseTopology(raw: unknown, epoch: number): TopologyRecord {
  const v = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!isObject(v) || typeof v.cluster !== 'string' || typeof v.primary !== 'string' || !isObject(v.standbys))
    throw new OrchError('JOB_STORE_ERROR', 'unreadable topology record in the job store');
  const standbys: Record<string, StandbyEntry> = {};
  for (const [h, e] of Object.entries(v.standbys)) {
    if (!isObject(e) || typeof e.upstream !== 'string' || typeof e.slot !== 'string')
      throw new OrchError('JOB_STORE_ERROR', `unreadable topology record for cluster ${v.cluster}`);
    standbys[h] = { upstream: e.upstream, slot: e.slot };
  }
  const rec: TopologyRecord = {
    cluster: v.cluster,
    epoch,
    primary: v.primary,
    standbys,
    timeline: typeof v.timeline === 'number' ? v.timeline : null,
    verb: typeof v.verb === 'string' ? v.verb : '?',
    updatedAt: typeof v.updatedAt === 'string' ? v.updatedAt : '',
  };
  if (typeof v.jid === 'string') rec.jid = v.jid;
  return rec;
}

/** What the records expect of each host: the primary's role, and each standby's accepted upstreams (the recorded
 * primary's name and, when addressOf knows it, its address). */
export function expectedNodes(
  records: Iterable<TopologyRecord>,
  addressOf: (host: string) => string | undefined,
): Map<string, { role: 'primary' | 'standby'; upstreams: string[] }> {
  const out = new Map<string, { role: 'primary' | 'standby'; upstreams: string[] }>();
  for (const rec of records) {
    out.set(rec.primary, { role: 'primary', upstreams: [] });
    for (const [h, e] of Object.entries(rec.standbys)) {
      const addr = addressOf(e.upstream);
      out.set(h, { role: 'standby', upstreams: [e.upstream, ...(addr ? [addr] : [])] });
    }
  }
  return out;
}
