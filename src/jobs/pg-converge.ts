// The last step of a lifecycle verb that changed the cluster: the formula applied to the cluster's hosts with the
// topology just recorded, so the replica procedure installed on each standby names its new upstream and slot, and
// the next `orch apply '*'` changes nothing (docs/LIFECYCLE.md). Data directories are never touched by it: every
// standby already streams from the recorded primary, so pg_make_replica only checks. Also the one rebuild a verb
// may run (rejoin --rebuild-if-needed).
import type { RunReport } from '../engine/run.js';
import type { ProjectConfig } from '../config/project.js';
import { OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import type { JobStore } from './store.js';
import type { StepLog } from '../pg/lifecycle/steps.js';

export async function convergeCluster(
  project: ProjectConfig,
  hosts: HostSpec[],
  store: JobStore,
  log: StepLog,
  acceptNewHostKeys?: boolean,
): Promise<void> {
  const report = await applyFormula(project, hosts, store, acceptNewHostKeys);
  if (report.aborted)
    throw new OrchError(
      'PG_STEP_FAILED',
      `state done, but the formula did not compile (${report.aborted.message}): fix it and run orch apply`,
    );
  const failed: string[] = [];
  for (const h of report.hosts) {
    const changed = h.states.filter((s) => s.status === 'changed').map((s) => s.id);
    if (h.ok) {
      log.ok(
        h.host,
        'converge',
        changed.length ? `formula applied; changed: ${changed.join(', ')}` : 'formula applied; no change',
      );
      continue;
    }
    const bad = h.states
      .filter((s) => s.status === 'failed' || s.status === 'not_run')
      .map((s) => `${s.id}: ${s.comment}`);
    log.add(h.host, 'converge', 'failed', h.error?.message ?? bad.join('; '));
    failed.push(h.host);
  }
  if (failed.length)
    throw new OrchError(
      'PG_STEP_FAILED',
      `state done (the topology changed as asked), but the formula's apply failed on ${failed.join(', ')}: see the steps, then run orch apply`,
    );
}

/**
 * The guarded rebuild of one node inside a lifecycle verb (rejoin --rebuild-if-needed): the formula applied to it
 * alone with the recorded topology and --force-rebuild for it, so pg_make_replica replaces its data directory
 * with a base backup from the recorded primary, keeping the old one beside it. What pg_make_replica said, or a
 * PG_STEP_FAILED naming the states that failed.
 */
export async function rebuildNode(
  project: ProjectConfig,
  host: HostSpec,
  store: JobStore,
  acceptNewHostKeys?: boolean,
): Promise<string> {
  const report = await applyFormula(project, [host], store, acceptNewHostKeys, [host.name]);
  if (report.aborted)
    throw new OrchError('PG_STEP_FAILED', `the formula did not compile: ${report.aborted.message}`);
  const h = report.hosts[0];
  if (!h?.ok) {
    const bad = (h?.states ?? [])
      .filter((s) => s.status === 'failed' || s.status === 'not_run')
      .map((s) => `${s.id}: ${s.comment}`);
    throw new OrchError('PG_STEP_FAILED', h?.error?.message ?? (bad.join('; ') || 'the formula failed'));
  }
  const replica = h.states.find((s) => s.fn === 'postgres.replica');
  return replica ? `${replica.id}: ${replica.comment}` : 'formula applied with --force-rebuild';
}

/** `orch apply` of hosts with the topology as the job store has it now (read again: a verb just wrote it). */
async function applyFormula(
  project: ProjectConfig,
  hosts: HostSpec[],
  store: JobStore,
  acceptNewHostKeys?: boolean,
  forceRebuild?: string[],
): Promise<RunReport> {
  const [{ runStates }, { loadTopologies, topologyAdjuster }] = await Promise.all([
    import('../engine/run.js'),
    import('./topology.js'),
  ]);
  const records = await loadTopologies(project, store);
  return runStates(project, hosts, {
    mode: 'apply',
    adjustPillar: topologyAdjuster(records),
    acceptNewHostKeys,
    ...(forceRebuild ? { forceRebuild } : {}),
  });
}
