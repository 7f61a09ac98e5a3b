// `orch pg follow [standby...]`: repoint standbys to the one server out of recovery, in place (no base backup),
// refusing a standby whose timeline has diverged from the primary's; then the topology the hosts show is
// recorded (this is also how a lost record is made again, docs/LIFECYCLE.md).
import { OrchError, errorMessage } from '../../errors.js';
import type { Cluster } from './cluster.js';
import { primariesOf, refuse, upstreamNames } from './preflight.js';
import { probeNode, type NodeState } from './probe.js';
import { createSlots } from './remote.js';
import type { StepLog } from './steps.js';
import type { LifecycleResult, RecordTopology } from './switchover.js';
import { templateConninfo } from './switchover.js';
import { divergence, readHistory } from './timeline.js';
import { slotsFor, type TopologyRecord } from './topology.js';
import { conninfoFor, repointRunning, streamsFrom, waitStreaming } from './upstream.js';

export interface FollowOptions {
  /** The standbys to repoint (default: every node but the primary). */
  standbys: string[];
  test: boolean;
  waitSeconds: number;
}

export async function follow(
  c: Cluster,
  opts: FollowOptions,
  log: StepLog,
  recordTopology: RecordTopology,
): Promise<LifecycleResult> {
  for (const s of opts.standbys) {
    if (!c.nodes.has(s) && !c.unreachable.has(s)) throw refuse(`${s} is not a node of cluster ${c.key}`);
    if (c.unreachable.has(s)) throw refuse(`${s} is unreachable (${c.unreachable.get(s)})`);
  }
  const states = new Map<string, NodeState>();
  for (const n of c.nodes.values()) states.set(n.host, await probeNode(n));
  const primaries = primariesOf(states);
  if (primaries.length !== 1)
    throw refuse(
      primaries.length
        ? `${primaries.length} servers are out of recovery (${primaries.map((p) => p.host).join(', ')}): split brain; resolve it first`
        : 'no running primary to follow',
    );
  const pSt = primaries[0]!;
  const p = c.nodes.get(pSt.host)!;
  const slots = slotsFor(c.pg, p.host);
  const names = upstreamNames(c, p.host);
  const targets = opts.standbys.length ? opts.standbys : [...c.nodes.keys()].filter((h) => h !== p.host);
  if (targets.includes(p.host)) throw refuse(`${p.host} is the primary`);
  const template = templateConninfo(
    c,
    [...states.values()].find((s) => s.conninfo),
  );

  // Every target is checked before any is changed.
  const history = await readHistory(p, pSt.timeline ?? 1);
  const work: string[] = [];
  for (const h of targets) {
    const st = states.get(h)!;
    if (!st.running) throw refuse(`${h} is not running (a stopped former primary needs orch pg rejoin)`);
    if (st.error) throw refuse(`${h}: ${st.error}`);
    if (st.systemId !== pSt.systemId) throw refuse(`${h} is another system than ${p.host}`);
    const lsn = st.receiveLsn ?? st.replayLsn;
    if (!lsn || st.timeline === undefined) throw refuse(`${h}: its WAL position is unknown`);
    const why = divergence(
      { tli: st.timeline, lsn },
      { tli: pSt.timeline ?? 1, lsn: pSt.currentLsn ?? null },
      history,
    );
    if (why) throw refuse(`${h} cannot follow ${p.host}: ${why}`);
    if (streamsFrom(st, names, slots[h]!))
      log.ok(h, 'check', `already streams from ${p.host} through slot ${slots[h]}`);
    else {
      work.push(h);
      (opts.test ? log.plan : log.ok).call(
        log,
        h,
        'check',
        `timeline ${st.timeline} at ${lsn} can follow ${p.host} (timeline ${pSt.timeline})`,
      );
    }
  }
  const topology: Omit<TopologyRecord, 'epoch'> = {
    cluster: c.key,
    primary: p.host,
    standbys: Object.fromEntries(
      [...c.nodes.keys(), ...c.unreachable.keys()]
        .filter((h) => h !== p.host)
        .map((h) => [h, { upstream: p.host, slot: slots[h]! }]),
    ),
    timeline: pSt.timeline ?? null,
    verb: 'pg follow',
    updatedAt: new Date().toISOString(),
  };
  if (opts.test) {
    if (work.length)
      log.plan(p.host, 'slots', `create missing slots ${work.map((h) => slots[h]).join(', ')}`);
    for (const h of work)
      log.plan(h, 'repoint', `primary_conninfo host=${p.host} port=${p.port}, slot ${slots[h]}`);
    return {
      state: 'unchanged',
      message: 'plan only (--test): nothing was changed',
      topology,
      notFollowing: [],
    };
  }

  const notFollowing: string[] = [];
  if (work.length) {
    await createSlots(
      p,
      work.map((h) => slots[h]!),
    );
    log.ok(p.host, 'slots', `physical slots ${work.map((h) => slots[h]).join(', ')} exist`);
  }
  for (const h of work) {
    const n = c.nodes.get(h)!;
    try {
      await repointRunning(n, conninfoFor(states.get(h)!.conninfo, template, p), slots[h]!);
      await waitStreaming(n, names, slots[h]!, opts.waitSeconds);
      log.ok(h, 'repoint', `streams from ${p.host} through slot ${slots[h]}`);
    } catch (err) {
      log.add(h, 'repoint', 'failed', errorMessage(err));
      notFollowing.push(h);
    }
  }
  const canon = (r: Pick<TopologyRecord, 'primary' | 'standbys'>) =>
    JSON.stringify([r.primary, Object.entries(r.standbys).sort(([a], [b]) => a.localeCompare(b))]);
  const same = c.record !== undefined && canon(c.record) === canon(topology);
  if (!same) {
    const ok = await recordTopology(topology).catch(() => false);
    if (ok) log.ok(p.host, 'record', `topology recorded: primary ${p.host}`);
    else log.add(p.host, 'record', 'failed', 'another verb recorded first, or the job store failed');
  }
  if (notFollowing.length)
    throw new OrchError(
      'PG_STEP_FAILED',
      `follow: state promoted_partial: ${p.host} is the primary; ${notFollowing.join(', ')} not following it`,
    );
  return {
    state: 'done',
    message: work.length
      ? `${work.join(', ')} now follow ${p.host}`
      : `every standby already follows ${p.host}`,
    topology,
    notFollowing,
  };
}
