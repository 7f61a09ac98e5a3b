// `orch pg promote <standby>`: unplanned failover. It never promotes while the old primary could still take
// writes: the old primary must be reachable over SSH with its server stopped (it is then fenced by a
// standby.signal / recovery.conf in its data directory, so whatever starts it brings it up read-only, never as a
// primary), or a --fence-command must exit 0 for it. The candidate must have received at least as much WAL as
// every other standby unless told. Then: slots on the candidate, promotion, the topology recorded, the other
// standbys repointed; the old primary stays fenced until it is rejoined.
import { OrchError, errorMessage } from '../../errors.js';
import type { Cluster } from './cluster.js';
import { refuse, upstreamNames } from './preflight.js';
import { lsnValue, probeNode, type NodeState } from './probe.js';
import { createSlots, promote as promoteNode, writeStandbyConfig } from './remote.js';
import type { StepLog } from './steps.js';
import { templateConninfo, type LifecycleResult, type RecordTopology } from './switchover.js';
import { slotsFor, type TopologyRecord } from './topology.js';
import { divergence, readHistory } from './timeline.js';
import { conninfoFor, recoveryConf, repointRunning, waitStreaming } from './upstream.js';

export interface PromoteOptions {
  candidate: string;
  test: boolean;
  /** Runs on the controller for an old primary that cannot be fenced over SSH; must exit 0. */
  fence?: (host: string) => Promise<number>;
  fenceCommand?: string;
  /** Promote even when another standby received more WAL. */
  allowBehind: boolean;
  waitSeconds: number;
}

export async function promote(
  c: Cluster,
  opts: PromoteOptions,
  log: StepLog,
  recordTopology: RecordTopology,
): Promise<LifecycleResult> {
  const cand = c.nodes.get(opts.candidate);
  if (!cand)
    throw refuse(
      c.unreachable.has(opts.candidate)
        ? `${opts.candidate} is unreachable`
        : `${opts.candidate} is not a node of cluster ${c.key}`,
    );
  const oldHost = String(c.pg.primary);
  if (oldHost === cand.host) throw refuse(`${cand.host} is already the recorded primary`);
  const states = new Map<string, NodeState>();
  for (const n of c.nodes.values()) states.set(n.host, await probeNode(n));
  const candSt = states.get(cand.host)!;
  if (!candSt.running || candSt.inRecovery !== true) throw refuse(`${cand.host} is not a running standby`);
  const others = [...states.values()].filter((s) => s.host !== cand.host && s.host !== oldHost);
  for (const s of others)
    if (s.running && s.inRecovery === false)
      throw refuse(`${s.host} is out of recovery too: split brain; resolve it by hand first`);

  // Fencing: the old primary must be proven unable to take writes.
  const old = c.nodes.get(oldHost);
  const oldSt = states.get(oldHost);
  let fencedOverSsh = false;
  if (old && oldSt) {
    if (oldSt.running)
      throw refuse(
        `the old primary ${oldHost} is reachable and its server runs (${oldSt.inRecovery ? 'as a standby' : 'as a primary'}): use orch pg switchover, or stop it first`,
      );
    fencedOverSsh = true;
    log.ok(
      oldHost,
      'fence',
      `reachable over SSH, server stopped (pg_control: ${oldSt.control.state ?? '?'})`,
    );
  } else if (!opts.fence) {
    throw refuse(
      `the old primary ${oldHost} is unreachable (${c.unreachable.get(oldHost) ?? '?'}) and cannot be fenced over SSH: give --fence-command that powers it off or cuts it off, and exits 0`,
    );
  }

  // The most advanced candidate: no reachable standby may have received more WAL.
  const pos = (s: NodeState) => s.receiveLsn ?? s.replayLsn;
  const candPos = pos(candSt);
  if (!candPos) throw refuse(`${cand.host}: its WAL position is unknown`);
  for (const s of others) {
    const p = (s.running && s.inRecovery ? pos(s) : null) ?? null;
    const ahead =
      !!p &&
      s.timeline !== undefined &&
      candSt.timeline !== undefined &&
      (s.timeline > candSt.timeline || (s.timeline === candSt.timeline && lsnValue(p) > lsnValue(candPos)));
    if (p && ahead && !opts.allowBehind)
      throw refuse(
        `${cand.host} received WAL up to ${candPos}, behind ${s.host} at ${p}: promote ${s.host}, or give --allow-behind`,
      );
  }
  log.ok(
    cand.host,
    'preflight',
    `standby on timeline ${candSt.timeline} at ${candPos}, the most advanced reachable`,
  );

  const slots = slotsFor(c.pg, cand.host);
  const topology: Omit<TopologyRecord, 'epoch'> = {
    cluster: c.key,
    primary: cand.host,
    standbys: Object.fromEntries(
      Object.entries(slots).map(([h, slot]) => [h, { upstream: cand.host, slot }]),
    ),
    timeline: null,
    verb: 'pg promote',
    updatedAt: new Date().toISOString(),
  };
  const followers = others.filter((s) => s.running && s.inRecovery).map((s) => c.nodes.get(s.host)!);
  if (opts.test) {
    log.plan(
      oldHost,
      'fence',
      fencedOverSsh
        ? 'write standby.signal (recovery.conf on 10/11) so it can only start read-only'
        : `run the fence command: ${opts.fenceCommand ?? ''}`,
    );
    log.plan(cand.host, 'slots', `create physical slots ${Object.values(slots).join(', ')}`);
    log.plan(cand.host, 'promote', cand.major >= 12 ? 'pg_promote(wait => true)' : 'pg_ctl promote');
    for (const f of followers)
      log.plan(f.host, 'repoint', `stream from ${cand.host} through slot ${slots[f.host]}`);
    return {
      state: 'unchanged',
      message: 'plan only (--test): nothing was changed',
      topology,
      notFollowing: [],
    };
  }

  if (fencedOverSsh) {
    const template = templateConninfo(c, candSt);
    await writeStandbyConfig(
      old!,
      old!.major >= 12 ? undefined : recoveryConf(conninfoFor(null, template, cand), slots[oldHost]!),
    ).catch((err: unknown) => {
      throw refuse(`${oldHost} could not be fenced: ${errorMessage(err)}`);
    });
    log.ok(
      oldHost,
      'fence',
      `${old!.major >= 12 ? 'standby.signal' : 'recovery.conf'} written: it can only start as a standby`,
    );
  } else {
    const rc = await opts.fence!(oldHost);
    if (rc !== 0) throw refuse(`the fence command exited ${rc} for ${oldHost}: not promoting`);
    log.ok(oldHost, 'fence', 'the fence command exited 0');
  }

  await createSlots(cand, Object.values(slots));
  log.ok(cand.host, 'slots', `physical slots ${Object.values(slots).join(', ')} exist`);
  await promoteNode(cand).catch((err: unknown) => log.add(cand.host, 'promote', 'failed', errorMessage(err)));
  const after = await probeNode(cand);
  if (after.inRecovery !== false)
    throw new OrchError(
      'PG_STEP_FAILED',
      `promote: ${cand.host} is still in recovery; state unknown: no primary runs (${oldHost} is fenced)`,
    );
  topology.timeline = after.timeline ?? null;
  log.ok(cand.host, 'promote', `out of recovery on timeline ${after.timeline}`);
  const recorded = await recordTopology(topology).catch(() => false);
  if (recorded) log.ok(cand.host, 'record', `topology recorded: primary ${cand.host}`);
  else log.add(cand.host, 'record', 'failed', 'another verb recorded first, or the job store failed');

  const notFollowing: string[] = [];
  const names = upstreamNames(c, cand.host);
  const template = templateConninfo(c, candSt);
  const history = await readHistory(cand, after.timeline ?? 1).catch(() => []);
  for (const f of followers) {
    const fs = states.get(f.host)!;
    const why = divergence(
      { tli: fs.timeline ?? 0, lsn: pos(fs) ?? '0/0' },
      { tli: after.timeline ?? 1, lsn: after.currentLsn ?? null },
      history,
    );
    if (why) {
      log.add(f.host, 'repoint', 'failed', `not repointed: ${why}`);
      notFollowing.push(f.host);
      continue;
    }
    try {
      await repointRunning(f, conninfoFor(states.get(f.host)!.conninfo, template, cand), slots[f.host]!);
      await waitStreaming(f, names, slots[f.host]!, opts.waitSeconds);
      log.ok(f.host, 'repoint', `streams from ${cand.host} through slot ${slots[f.host]}`);
    } catch (err) {
      log.add(f.host, 'repoint', 'failed', errorMessage(err));
      notFollowing.push(f.host);
    }
  }
  if (notFollowing.length || !recorded)
    throw new OrchError(
      'PG_STEP_FAILED',
      `promote: state promoted_partial: ${cand.host} is the primary; ${[
        notFollowing.length ? `${notFollowing.join(', ')} not following it (orch pg follow)` : '',
        recorded ? '' : 'the topology was not recorded',
      ]
        .filter(Boolean)
        .join('; ')}`,
    );
  return {
    state: 'done',
    message: `${cand.host} is the primary; ${followers.length} standby(s) follow it; ${oldHost} stays fenced until it is rejoined (orch pg rejoin ${oldHost})`,
    topology,
    notFollowing: [oldHost],
  };
}
