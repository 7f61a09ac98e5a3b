// `orch pg switchover <standby>`: a planned change of primary with no data loss and no base backup. Preflight;
// checkpoint and fast shutdown of the old primary; proof that the candidate replayed its shutdown checkpoint;
// the other nodes' slots made on the candidate; promotion; the topology recorded; the other standbys repointed in
// place; the old primary started as a standby of the new one. Until the promotion every failure is undone (the old
// primary is started again); after it the verb goes forward and says which nodes do not follow yet.
import { OrchError, errorMessage } from '../../errors.js';
import type { Cluster } from './cluster.js';
import { formatConninfo } from './conninfo.js';
import type { PgNode } from './node.js';
import {
  currentPrimary,
  readCluster,
  refuse,
  replayLag,
  standbyProblem,
  upstreamNames,
} from './preflight.js';
import { lsnValue, probeNode, type NodeState } from './probe.js';
import { createSlots, dropSlots, promote, sql, startAndWait, stopFast } from './remote.js';
import type { ClusterState, StepLog } from './steps.js';
import { slotsFor, type TopologyRecord } from './topology.js';
import { conninfoFor, repointRunning, startAsStandby, waitStreaming } from './upstream.js';

export interface SwitchoverOptions {
  candidate: string;
  /** Print the plan; change nothing. */
  test: boolean;
  /** Largest replay lag of the candidate, in bytes, that preflight accepts. */
  maxLagBytes: number;
  /** Longest wait for the candidate to replay the shutdown checkpoint, and for each standby to stream. */
  waitSeconds: number;
}

export interface LifecycleResult {
  state: ClusterState;
  message: string;
  /** The topology written (or that would be written by --test). */
  topology?: Omit<TopologyRecord, 'epoch'>;
  /** Nodes that do not follow the new primary yet. */
  notFollowing: string[];
}

/** Record the new topology; false when another verb recorded first. */
export type RecordTopology = (rec: Omit<TopologyRecord, 'epoch'>) => Promise<boolean>;

const MiB = 1024n * 1024n;

/** A conninfo to start from when a node has none of its own (the pillar's replication user and .pgpass). */
export function templateConninfo(c: Cluster, fallback: NodeState | undefined): string {
  if (fallback?.conninfo) return fallback.conninfo;
  const repl = (c.pg.replication ?? {}) as Record<string, unknown>;
  const paths = (c.pg.paths ?? {}) as Record<string, unknown>;
  const user = typeof repl.user === 'string' ? repl.user : 'replicator';
  const home = typeof paths.home === 'string' ? paths.home : '/var/lib/postgresql';
  return formatConninfo([
    ['user', user],
    ['passfile', `${home}/.pgpass`],
    ['host', 'localhost'],
    ['port', '5432'],
  ]);
}

export async function switchover(
  c: Cluster,
  opts: SwitchoverOptions,
  log: StepLog,
  recordTopology: RecordTopology,
): Promise<LifecycleResult> {
  const states = await readCluster(c);
  const cand = c.nodes.get(opts.candidate);
  if (!cand) throw refuse(`${opts.candidate} is not a node of cluster ${c.key}`);
  const old = currentPrimary(c, states);
  if (old.host === cand.host) throw refuse(`${cand.host} is already the primary`);
  const oldSt = states.get(old.host)!;
  const candSt = states.get(cand.host)!;
  const others = [...c.nodes.values()].filter((n) => n !== old && n !== cand);

  // Preflight: the candidate and every other standby stream from the primary; the candidate is close behind.
  const candWhy = standbyProblem(c, oldSt, candSt);
  if (candWhy) throw refuse(`${cand.host} cannot take over: ${candWhy}`);
  const lag = replayLag(oldSt, candSt);
  if (lag === null || lag > BigInt(opts.maxLagBytes))
    throw refuse(
      `${cand.host} replays ${lag === null ? 'an unknown amount' : `${lag / MiB} MiB (${lag} bytes)`} behind; the limit is ${opts.maxLagBytes} bytes (--max-lag)`,
    );
  for (const o of others) {
    const why = standbyProblem(c, oldSt, states.get(o.host)!);
    if (why) throw refuse(`${o.host} could not follow the new primary: ${why}`);
  }
  for (const n of c.nodes.values())
    if (n.major !== cand.major)
      throw refuse(`${n.host} runs PostgreSQL ${n.major}, ${cand.host} ${cand.major}`);
  log.ok(cand.host, 'preflight', `streams from ${old.host}, ${lag} bytes behind, replay not paused`);
  for (const o of others) log.ok(o.host, 'preflight', `streams from ${old.host}; can follow ${cand.host}`);

  const newSlots = slotsFor(c.pg, cand.host);
  const oldSlots = slotsFor(c.pg, old.host);
  const template = templateConninfo(c, candSt);
  const topology: Omit<TopologyRecord, 'epoch'> = {
    cluster: c.key,
    primary: cand.host,
    standbys: Object.fromEntries(
      [old, ...others].map((n) => [n.host, { upstream: cand.host, slot: newSlots[n.host]! }]),
    ),
    timeline: null,
    verb: 'pg switchover',
    updatedAt: new Date().toISOString(),
  };

  if (opts.test) {
    log.plan(old.host, 'checkpoint', 'CHECKPOINT, so the shutdown is short');
    log.plan(old.host, 'stop', 'fast shutdown; read the shutdown checkpoint LSN from pg_controldata');
    log.plan(
      cand.host,
      'verify',
      `wait (at most ${opts.waitSeconds} s) until the shutdown checkpoint is replayed`,
    );
    const slotList = Object.values(newSlots).join(', ');
    log.plan(cand.host, 'slots', `create physical slots ${slotList} (before any standby is repointed)`);
    log.plan(cand.host, 'promote', cand.major >= 12 ? 'pg_promote(wait => true)' : 'pg_ctl promote');
    log.plan(cand.host, 'record', `record the topology: primary ${cand.host}`);
    for (const o of others)
      log.plan(
        o.host,
        'repoint',
        `primary_conninfo host=${cand.host} port=${cand.port}, slot ${newSlots[o.host]} (${reloadWord(o)})`,
      );
    log.plan(
      old.host,
      'rejoin',
      `${old.major >= 12 ? 'standby.signal' : 'recovery.conf'}, start, stream from ${cand.host} through slot ${newSlots[old.host]}; drop its old slots ${Object.values(oldSlots).join(', ')}`,
    );
    return {
      state: 'unchanged',
      message: 'plan only (--test): nothing was changed',
      topology,
      notFollowing: [],
    };
  }

  // Until the candidate is promoted, any failure starts the old primary again.
  const undo = async (why: string, err: unknown): Promise<never> => {
    log.add(old.host, why, 'failed', errorMessage(err));
    try {
      await dropSlots(cand, Object.values(newSlots)).catch(() => undefined);
      await startAndWait(old);
      log.ok(old.host, 'rollback', 'started again as the primary');
    } catch (e) {
      throw new OrchError(
        'PG_STEP_FAILED',
        `switchover failed at ${why} (${errorMessage(err)}), and ${old.host} could not be started again (${errorMessage(e)}): state unknown, no primary may be running`,
      );
    }
    throw new OrchError(
      'PG_STEP_FAILED',
      `switchover failed at ${why}: ${errorMessage(err)}; state rolled_back: ${old.host} is the primary again, nothing else changed`,
    );
  };

  await sql(old, 'checkpoint', ['CHECKPOINT']).then(
    () => log.ok(old.host, 'checkpoint', 'done'),
    (err: unknown) => undo('checkpoint', err),
  );
  let checkpoint = '';
  try {
    await stopFast(old);
    const st = await probeNode(old);
    if (st.running || st.control.state !== 'shut down' || !st.control.checkpointLsn)
      throw new Error(`not cleanly shut down (running: ${st.running}, state: ${st.control.state ?? '?'})`);
    checkpoint = st.control.checkpointLsn;
    log.ok(old.host, 'stop', `clean shutdown; shutdown checkpoint at ${checkpoint}`);
  } catch (err) {
    await undo('stop', err);
  }

  try {
    const st = await waitReplayed(cand, checkpoint, opts.waitSeconds);
    log.ok(
      cand.host,
      'verify',
      `received ${st.receiveLsn} and replayed ${st.replayLsn}, past the shutdown checkpoint ${checkpoint}`,
    );
  } catch (err) {
    await undo('verify', err);
  }

  try {
    await createSlots(cand, Object.values(newSlots));
    log.ok(cand.host, 'slots', `physical slots ${Object.values(newSlots).join(', ')} exist`);
  } catch (err) {
    await undo('slots', err);
  }

  let promoted: NodeState | undefined;
  try {
    await promote(cand);
  } catch (err) {
    log.add(cand.host, 'promote', 'failed', errorMessage(err));
  }
  try {
    promoted = await probeNode(cand);
  } catch (err) {
    throw new OrchError(
      'PG_STEP_FAILED',
      `switchover: ${cand.host} could not be read after promoting (${errorMessage(err)}); state unknown: ${old.host} is left stopped, check with orch pg status`,
    );
  }
  if (promoted.inRecovery !== false) await undo('promote', new Error(`${cand.host} is still in recovery`));
  topology.timeline = promoted.timeline ?? null;
  log.ok(cand.host, 'promote', `out of recovery on timeline ${promoted.timeline}`);
  const recorded = await recordTopology(topology).catch((err: unknown) => {
    log.add(cand.host, 'record', 'failed', errorMessage(err));
    return false;
  });
  if (recorded) log.ok(cand.host, 'record', `topology recorded: primary ${cand.host}`);

  // Forward only from here: each standby that fails is reported and left for `orch pg follow`.
  const notFollowing: string[] = [];
  const names = upstreamNames(c, cand.host);
  for (const o of others) {
    const slot = newSlots[o.host]!;
    try {
      await repointRunning(o, conninfoFor(states.get(o.host)!.conninfo, template, cand), slot);
      await waitStreaming(o, names, slot, opts.waitSeconds);
      log.ok(o.host, 'repoint', `streams from ${cand.host} through slot ${slot} (${reloadWord(o)})`);
    } catch (err) {
      log.add(o.host, 'repoint', 'failed', errorMessage(err));
      notFollowing.push(o.host);
    }
  }
  try {
    const slot = newSlots[old.host]!;
    await startAsStandby(old, conninfoFor(null, template, cand), slot);
    await waitStreaming(old, names, slot, opts.waitSeconds);
    log.ok(old.host, 'rejoin', `started as a standby; streams from ${cand.host} through slot ${slot}`);
    await dropSlots(old, Object.values(oldSlots));
    log.ok(old.host, 'slots', `dropped its former slots ${Object.values(oldSlots).join(', ')}`);
  } catch (err) {
    log.add(old.host, 'rejoin', 'failed', errorMessage(err));
    notFollowing.push(old.host);
  }
  if (notFollowing.length || !recorded) {
    const parts = [
      notFollowing.length ? `${notFollowing.join(', ')} not yet following (run orch pg follow)` : '',
      recorded
        ? ''
        : 'the topology could not be recorded (another verb wrote first, or the job store failed)',
    ].filter(Boolean);
    throw new OrchError(
      'PG_STEP_FAILED',
      `switchover: state promoted_partial: ${cand.host} is the primary; ${parts.join('; ')}`,
    );
  }
  return {
    state: 'done',
    message: `${cand.host} is the primary; ${old.host} and ${others.length} other standby(s) follow it`,
    topology,
    notFollowing,
  };
}

function reloadWord(n: PgNode): string {
  return n.major >= 13 ? 'reload' : n.major === 12 ? 'restart' : 'recovery.conf and restart';
}

/** Poll until n has received and replayed past lsn. */
async function waitReplayed(n: PgNode, lsn: string, seconds: number): Promise<NodeState> {
  const target = lsnValue(lsn);
  const until = Date.now() + seconds * 1000;
  let st: NodeState | undefined;
  for (;;) {
    st = await probeNode(n).catch(() => undefined);
    if (st?.receiveLsn && st.replayLsn && lsnValue(st.receiveLsn) > target && lsnValue(st.replayLsn) > target)
      return st;
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${n.host} did not replay the shutdown checkpoint ${lsn} within ${seconds} s (received ${st?.receiveLsn ?? '?'}, replayed ${st?.replayLsn ?? '?'})`,
  );
}
