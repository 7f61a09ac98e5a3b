// The apply job: what `orch apply` (and `--test`) runs, whether the CLI runs it or a worker does. It runs the
// engine over resolved hosts, hands each host's result to the job record as it arrives and returns the report
// with its exit code. It neither prints nor opens the job store.
import type { ProjectConfig } from '../config/project.js';
import { runExitCode } from '../engine/exit.js';
import { isTransportCode, summarize, type HostRunResult } from '../engine/result.js';
import { runStates, type ProgressEvent, type RunReport } from '../engine/run.js';
import type { HostSpec } from '../inventory/types.js';
import type { JobContext, JobOutcome } from './record.js';
import { loadTopologies, topologyAdjuster } from './topology.js';

/** The stored arguments of an apply job (never secrets). */
export interface ApplyJobArgs {
  /** State files to run instead of the top file's. */
  states?: string[];
  group?: string;
  test?: boolean;
  acceptNewHostkeys?: boolean;
  /** The hosts the target resolved to when the job was made (for listing; workers resolve again). */
  hosts?: string[];
  /** Global options given on the command line, so a worker sees the same project. */
  inventory?: string[];
  parallel?: number;
  /** Wait for host locks instead of failing (async jobs default to waiting). */
  wait?: boolean;
  waitTimeoutMs?: number;
  /** One-shot: hosts whose replica may be rebuilt over data pg_make_replica would otherwise refuse. */
  forceRebuild?: string[];
  /** Seconds each host's run may take (--timeout); past it the host fails with TIMEOUT, the others go on. */
  timeout?: number;
}

export interface ApplyOutcome extends JobOutcome {
  report: RunReport;
}

/** One word for a host's result, stored beside it: ok, changed, would_change, failed, unreachable, not_run (left
 * alone by a cancel or an interrupt), timeout, error. */
export function applyHostStatus(h: HostRunResult): string {
  if (h.error) {
    if (h.error.code === 'CANCELLED') return 'not_run';
    if (h.error.code === 'TIMEOUT') return 'timeout';
    return isTransportCode(h.error.code) ? 'unreachable' : 'error';
  }
  if (!h.ok) return 'failed';
  if (h.states.some((s) => s.status === 'changed')) return 'changed';
  if (h.states.some((s) => s.status === 'would_change' || s.status === 'unknown')) return 'would_change';
  return 'ok';
}

/** Run the states of hosts (apply or test mode) as job ctx; progress events go to onProgress. */
export async function executeApply(
  project: ProjectConfig,
  hosts: HostSpec[],
  args: ApplyJobArgs,
  ctx: JobContext,
  onProgress?: (e: ProgressEvent) => void,
): Promise<ApplyOutcome> {
  // The recorded topology decides which node the formula treats as the primary (docs/LIFECYCLE.md).
  const topologies = await loadTopologies(project);
  const report = await runStates(project, hosts, {
    adjustPillar: topologyAdjuster(topologies),
    mode: args.test ? 'test' : 'apply',
    only: args.states?.length ? args.states : undefined,
    acceptNewHostKeys: args.acceptNewHostkeys,
    forceRebuild: args.forceRebuild,
    hostTimeoutMs: typeof args.timeout === 'number' && args.timeout > 0 ? args.timeout * 1000 : undefined,
    onProgress,
    onHostResult: (r) => ctx.hostResult(r.host, applyHostStatus(r), r),
    cancelled: () => ctx.cancelled(),
    stopReason: () => ctx.stopReason(),
  });
  const summary: Record<string, unknown> = { mode: report.mode, ...summarize(report.hosts) };
  if (report.aborted) summary.aborted = report.aborted;
  return { exitCode: runExitCode(report), summary, report };
}
