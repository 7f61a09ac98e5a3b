// The drift job: a check-only run of every assigned state plus the PostgreSQL probe (src/drift/run.ts), whether the
// CLI runs it or a worker does (`orch drift --async`). Each host's drift record goes to the job as it arrives; the
// job succeeds when everything was checked, drift or not (the exit code tells which), and is listed as clean or
// drifted. It neither prints nor opens the job store.
import { z } from 'zod';
import type { ProjectConfig } from '../config/project.js';
import { EXIT } from '../errors/codes.js';
import { countByStatus, driftExitCode } from '../drift/build.js';
import { formatDriftHuman } from '../drift/format/human.js';
import { runDrift } from '../drift/run.js';
import type { DriftReport } from '../drift/types.js';
import type { ProgressEvent } from '../engine/run.js';
import type { HostSpec } from '../inventory/types.js';
import { reportFromJob, storedHostDrift } from './drift-history.js';
import { commonJobArgs, type JobKind } from './kind.js';
import { progressToJob } from './progress.js';
import type { JobContext, JobOutcome } from './record.js';
import type { JobRecord } from './store.js';

/** The stored arguments of a drift job (never secrets). */
export const driftJobArgs = z.object({
  ...commonJobArgs,
  target: z.string().optional().describe('the target as given (the report names it)'),
  timeout: z
    .number()
    .positive()
    .optional()
    .describe("seconds each host's check may take; past it the host counts as not checked"),
});

export type DriftJobArgs = z.infer<typeof driftJobArgs>;

export interface DriftOutcome extends JobOutcome {
  report: DriftReport;
}

/** Check hosts for drift as job ctx; progress events go to onProgress. */
export async function executeDrift(
  project: ProjectConfig,
  hosts: HostSpec[],
  target: string,
  args: DriftJobArgs,
  ctx: JobContext,
  onProgress?: (e: ProgressEvent) => void,
): Promise<DriftOutcome> {
  const { loadTopologies, topologyAdjuster } = await import('./topology.js');
  const report = await runDrift(project, hosts, {
    adjustPillar: topologyAdjuster(await loadTopologies(project)),
    target,
    jid: ctx.jid,
    acceptNewHostKeys: args.acceptNewHostkeys,
    retries: args.retries,
    hostTimeoutMs: args.timeout ? args.timeout * 1000 : undefined,
    onProgress: progressToJob(ctx, onProgress),
    onHost: (h) => ctx.hostResult(h.host, h.status, h),
    cancelled: ctx.cancelled,
    stopReason: ctx.stopReason,
  });
  const exitCode = driftExitCode(report);
  const summary: Record<string, unknown> = { hosts: countByStatus(report.hosts) };
  if (report.aborted) summary.aborted = report.aborted;
  // A run that checked everything succeeded, whether or not it found drift; the exit code tells which.
  const status =
    exitCode === EXIT.OK || exitCode === EXIT.DRIFT ? ('succeeded' as const) : ('failed' as const);
  return { exitCode, summary, status, report };
}

/** clean or drifted for a drift job that checked everything; undefined otherwise (its status says more). */
function driftLabel(job: JobRecord): string | undefined {
  if (job.status !== 'succeeded') return undefined;
  if (job.exitCode === EXIT.OK) return 'clean';
  if (job.exitCode === EXIT.DRIFT) return 'drifted';
  return undefined;
}

export const driftKind: JobKind<DriftJobArgs> = {
  verb: 'drift',
  args: driftJobArgs,
  run: (project, hosts, args, ctx) => executeDrift(project, hosts, args.target ?? '*', args, ctx),
  statusLabel: driftLabel,
  countsText: (job) => {
    const byStatus = job.summary?.hosts;
    if (!byStatus || typeof byStatus !== 'object') return undefined;
    const counts = Object.entries(byStatus as Record<string, unknown>).filter(
      (e): e is [string, number] => typeof e[1] === 'number',
    );
    const total = counts.reduce((n, [, c]) => n + c, 0);
    const bits = counts.filter(([, c]) => c > 0).map(([k, c]) => `${c} ${k}`);
    return `${total} host(s)${bits.length ? `: ${bits.join(', ')}` : ''}`;
  },
  lookupText: (job) => {
    // Records of another shape (older or foreign rows) fall back to the generic view.
    if (!Object.values(job.hosts).every((h) => storedHostDrift(h.result) !== null)) return undefined;
    return `${formatDriftHuman(reportFromJob(job))}\n`;
  },
};
