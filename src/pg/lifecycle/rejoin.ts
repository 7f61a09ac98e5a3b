// `orch pg rejoin <host>`: bring a former primary (stopped and fenced after a promote, or a standby that has
// diverged) back as a standby of the current primary without a base backup: pg_rewind from the primary, dry run
// first, the host's own configuration files kept; its slot on the primary made first; started as a standby;
// streaming checked; the topology recorded. When rewind cannot work (neither wal_log_hints nor data checksums,
// another system, PostgreSQL 10, the dry run failing) it is refused with the guarded rebuild to run instead, or,
// with --rebuild-if-needed, that rebuild is run: pg_make_replica forced for this host alone, which keeps the old
// data directory beside the new one (nothing is deleted before the replacement streams).
import { OrchError, errorMessage } from '../../errors.js';
import type { Cluster } from './cluster.js';
import { currentPrimary, readCluster, refuse, upstreamNames } from './preflight.js';
import type { PgNode } from './node.js';
import type { NodeState } from './probe.js';
import { createSlots, dropSlots, sql, startAndWait, stopFast, writeStandbyConfig } from './remote.js';
import { grantRewind, rewind, rewindSummary } from './rewind.js';
import type { StepLog } from './steps.js';
import { templateConninfo, type LifecycleResult, type RecordTopology } from './switchover.js';
import { divergence, readHistory } from './timeline.js';
import { slotsFor, type TopologyRecord } from './topology.js';
import { conninfoFor, recoveryConf, startAsStandby, waitStreaming } from './upstream.js';

export interface RejoinOptions {
  host: string;
  test: boolean;
  waitSeconds: number;
  /** When rewind cannot work, run the guarded rebuild instead of refusing (needs `rebuild`). */
  rebuildIfNeeded?: boolean;
  /** The guarded rebuild of one host (the formula with --force-rebuild for it); a line saying what it did. */
  rebuild?: (host: string) => Promise<string>;
}

/** The command that rebuilds host from the primary instead (a base backup, guarded by pg_make_replica). */
export const rebuildAdvice = (host: string): string =>
  `rebuild it instead: orch apply ${host} --force-rebuild ${host}`;

const CLEAN = new Set(['shut down', 'shut down in recovery']);

/** Why pg_rewind cannot run on this stopped target (undefined when it can). */
export function rewindImpossible(target: NodeState, primary: NodeState, major: number): string | undefined {
  if (major < 11) return `pg_rewind from a non-superuser needs PostgreSQL 11 or later (this is ${major})`;
  const ctl = target.control;
  if (ctl.systemId && primary.systemId && ctl.systemId !== primary.systemId)
    return `it is another system (${ctl.systemId} vs ${primary.systemId})`;
  if (ctl.walLogHints === undefined && ctl.checksumVersion === undefined)
    return 'its pg_control could not be read';
  if (ctl.walLogHints !== true && !ctl.checksumVersion)
    return 'it has neither wal_log_hints nor data checksums, so pg_rewind cannot tell which pages changed (set postgres.settings.wal_log_hints: on for every node)';
  return undefined;
}

export async function rejoin(
  c: Cluster,
  opts: RejoinOptions,
  log: StepLog,
  recordTopology: RecordTopology,
): Promise<LifecycleResult> {
  const n = c.nodes.get(opts.host);
  if (!n)
    throw refuse(
      c.unreachable.has(opts.host)
        ? `${opts.host} is unreachable (${c.unreachable.get(opts.host)})`
        : `${opts.host} is not a node of cluster ${c.key}`,
    );
  const states = await readCluster(c);
  const p = currentPrimary(c, states);
  if (p.host === n.host) throw refuse(`${n.host} is the primary`);
  const pSt = states.get(p.host)!;
  let st = states.get(n.host)!;
  const slot = slotsFor(c.pg, p.host)[n.host]!;
  const names = upstreamNames(c, p.host);
  const template = templateConninfo(
    c,
    [...states.values()].find((s) => s.conninfo),
  );
  const conninfo = conninfoFor(null, template, p);
  const role = String(((c.pg.replication ?? {}) as Record<string, unknown>).user ?? 'replicator');

  if (st.running) {
    if (st.inRecovery === false)
      throw refuse(`${n.host} runs as a primary too (split brain): stop it first, then rejoin it`);
    const lsn = st.receiveLsn ?? st.replayLsn;
    const history = await readHistory(p, pSt.timeline ?? 1);
    const why =
      lsn && st.timeline !== undefined
        ? divergence(
            { tli: st.timeline, lsn },
            { tli: pSt.timeline ?? 1, lsn: pSt.currentLsn ?? null },
            history,
          )
        : 'its WAL position is unknown';
    if (!why) throw refuse(`${n.host} is a standby that can follow ${p.host} as it is: use orch pg follow`);
    log.ok(n.host, 'check', `running standby that cannot follow ${p.host}: ${why}`);
  }
  const topology: Omit<TopologyRecord, 'epoch'> = {
    cluster: c.key,
    primary: p.host,
    standbys: Object.fromEntries(
      Object.entries(slotsFor(c.pg, p.host)).map(([h, s]) => [h, { upstream: p.host, slot: s }]),
    ),
    timeline: pSt.timeline ?? null,
    verb: 'pg rejoin',
    updatedAt: new Date().toISOString(),
  };
  const fallback: Fallback = { c, n, p, slot, names, opts, log, topology, recordTopology };
  const impossible = rewindImpossible(st, pSt, n.major);
  if (impossible) {
    if (opts.rebuildIfNeeded) return rebuildInstead(fallback, `it cannot be rewound: ${impossible}`);
    throw refuse(`${n.host} cannot be rewound: ${impossible}; ${rebuildAdvice(n.host)}`);
  }
  log.ok(
    n.host,
    'check',
    `${st.control.walLogHints ? 'wal_log_hints on' : `data checksums (version ${st.control.checksumVersion})`}, same system as ${p.host}`,
  );
  const clean = !st.running && CLEAN.has(st.control.state ?? '');
  if (opts.test) {
    if (st.running) log.plan(n.host, 'stop', 'fast shutdown of the diverged standby');
    else if (!clean)
      log.plan(
        n.host,
        'recover',
        `start read-only and stop cleanly (pg_control: ${st.control.state ?? '?'})`,
      );
    log.plan(p.host, 'checkpoint', 'CHECKPOINT, so pg_rewind reads its current timeline');
    log.plan(p.host, 'grant', `EXECUTE on the functions pg_rewind reads with, to ${role}`);
    log.plan(p.host, 'slots', `create physical slot ${slot}`);
    log.plan(n.host, 'dry-run', 'pg_rewind --dry-run from the primary');
    log.plan(n.host, 'rewind', 'pg_rewind, keeping the local configuration files');
    log.plan(n.host, 'start', `as a standby of ${p.host} through slot ${slot}`);
    return {
      state: 'unchanged',
      message: 'plan only (--test): nothing was changed',
      topology,
      notFollowing: [],
    };
  }

  if (st.running) {
    await stopFast(n);
    log.ok(n.host, 'stop', 'fast shutdown');
  } else if (!clean) {
    // pg_rewind wants a clean shutdown: finish crash recovery read-only (it is fenced: it cannot start as a
    // primary), then stop it.
    await writeStandbyConfig(n, n.major >= 12 ? undefined : recoveryConf(conninfo, slot));
    await startAndWait(n);
    await stopFast(n);
    log.ok(n.host, 'recover', 'crash recovery finished read-only, stopped cleanly');
  }
  // pg_rewind reads the source's timeline from its pg_control, which a just-promoted primary updates only at its
  // next checkpoint: without one it reports "no rewind required" for a node that has diverged.
  await sql(p, 'checkpoint', ['CHECKPOINT']);
  log.ok(p.host, 'checkpoint', 'its pg_control shows its current timeline');
  await grantRewind(p, role);
  log.ok(p.host, 'grant', `${role} may run pg_rewind against it`);
  await createSlots(p, [slot]);
  log.ok(p.host, 'slots', `physical slot ${slot} exists`);
  const source = `${conninfo} dbname=postgres`;
  let dry: string;
  try {
    dry = await rewind(n, source, true);
  } catch (err) {
    if (opts.rebuildIfNeeded)
      return rebuildInstead(fallback, `pg_rewind --dry-run failed: ${errorMessage(err)}`);
    throw refuse(`pg_rewind --dry-run failed on ${n.host}: ${errorMessage(err)}; ${rebuildAdvice(n.host)}`);
  }
  log.ok(n.host, 'dry-run', rewindSummary(dry));
  try {
    log.ok(n.host, 'rewind', `${rewindSummary(await rewind(n, source, false))}; local configuration kept`);
  } catch (err) {
    log.add(n.host, 'rewind', 'failed', errorMessage(err));
    if (opts.rebuildIfNeeded) return rebuildInstead(fallback, `pg_rewind failed: ${errorMessage(err)}`);
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${p.host} is the primary; pg_rewind failed on ${n.host}, which stays stopped (${errorMessage(err)}); ${rebuildAdvice(n.host)}`,
    );
  }
  try {
    await startAsStandby(n, conninfo, slot);
    st = await waitStreaming(n, names, slot, opts.waitSeconds);
    log.ok(n.host, 'start', `started as a standby; streams from ${p.host} through slot ${slot}`);
  } catch (err) {
    log.add(n.host, 'start', 'failed', errorMessage(err));
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${p.host} is the primary; ${n.host} was rewound but does not stream from it (${errorMessage(err)})`,
    );
  }
  // Slots it kept from its time as primary hold WAL for nobody.
  const stale = st.slots.filter((s) => !s.active).map((s) => s.name);
  if (stale.length) {
    await dropSlots(n, stale);
    log.ok(n.host, 'slots', `dropped its former slots ${stale.join(', ')}`);
  }
  const recorded = await recordTopology(topology).catch(() => false);
  if (recorded) log.ok(p.host, 'record', `topology recorded: ${n.host} follows ${p.host}`);
  else {
    log.add(p.host, 'record', 'failed', 'another verb recorded first, or the job store failed');
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${n.host} streams from ${p.host}; the topology was not recorded`,
    );
  }
  return {
    state: 'done',
    message: `${n.host} was rewound and streams from ${p.host}`,
    topology,
    notFollowing: [],
  };
}

interface Fallback {
  c: Cluster;
  n: PgNode;
  p: PgNode;
  slot: string;
  names: string[];
  opts: RejoinOptions;
  log: StepLog;
  topology: Omit<TopologyRecord, 'epoch'>;
  recordTopology: RecordTopology;
}

/**
 * --rebuild-if-needed: the guarded rebuild in place of the rewind. The slot first (pg_make_replica checks it on
 * the primary), then the formula forced for this host alone: pg_make_replica stops the node, keeps its data
 * directory beside the new one and puts it back should the base backup fail. Then the usual ending of a rejoin.
 */
async function rebuildInstead(f: Fallback, why: string): Promise<LifecycleResult> {
  const { n, p, slot, log, opts } = f;
  const what = `guarded rebuild from ${p.host} (pg_make_replica forced for this host: a base backup; the old data directory is kept beside the new one)`;
  if (opts.test) {
    log.plan(n.host, 'check', `${why}: rebuild instead (--rebuild-if-needed)`);
    log.plan(p.host, 'slots', `create physical slot ${slot}`);
    log.plan(n.host, 'rebuild', what);
    log.plan(n.host, 'start', `streams from ${p.host} through slot ${slot}`);
    return {
      state: 'unchanged',
      message: 'plan only (--test): nothing was changed',
      topology: f.topology,
      notFollowing: [],
    };
  }
  if (!opts.rebuild) throw new OrchError('INTERNAL', 'rejoin --rebuild-if-needed without a rebuild');
  log.ok(n.host, 'check', `${why}: rebuilding instead (--rebuild-if-needed)`);
  await createSlots(p, [slot]);
  log.ok(p.host, 'slots', `physical slot ${slot} exists`);
  try {
    log.ok(n.host, 'rebuild', await opts.rebuild(n.host));
  } catch (err) {
    log.add(n.host, 'rebuild', 'failed', errorMessage(err));
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${p.host} is the primary; the rebuild of ${n.host} failed (${errorMessage(err)}); pg_make_replica keeps or restores its old data directory (orch pg status lists it)`,
    );
  }
  try {
    await waitStreaming(n, f.names, slot, opts.waitSeconds);
    log.ok(n.host, 'start', `rebuilt; streams from ${p.host} through slot ${slot}`);
  } catch (err) {
    log.add(n.host, 'start', 'failed', errorMessage(err));
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${p.host} is the primary; ${n.host} was rebuilt but does not stream from it (${errorMessage(err)})`,
    );
  }
  if (!(await f.recordTopology(f.topology).catch(() => false))) {
    log.add(p.host, 'record', 'failed', 'another verb recorded first, or the job store failed');
    throw new OrchError(
      'PG_STEP_FAILED',
      `rejoin: state promoted_partial: ${n.host} streams from ${p.host}; the topology was not recorded`,
    );
  }
  log.ok(p.host, 'record', `topology recorded: ${n.host} follows ${p.host}`);
  return {
    state: 'done',
    message: `${n.host} was rebuilt from ${p.host} (${why}) and streams from it; its old data directory is kept beside the new one`,
    topology: f.topology,
    notFollowing: [],
  };
}
