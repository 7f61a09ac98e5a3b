// The apply job: what `orch apply` (and `--test`) runs, whether the CLI runs it or a worker does. It runs the
// engine over resolved hosts, hands each host's result to the job record as it arrives and returns the report
// with its exit code. It neither prints nor opens the job store.
import { z } from 'zod';
import type { ProjectConfig } from '../config/project.js';
import { runExitCode } from '../engine/exit.js';
import { hostErrorStatus, summarize, type HostRunResult } from '../engine/result.js';
import { STOPPED_PREFIX } from '../engine/phases.js';
import { runStates, type ProgressEvent, type RunReport } from '../engine/run.js';
import type { HostSpec } from '../inventory/types.js';
import { commonJobArgs, type JobKind } from './kind.js';
import { progressToJob } from './progress.js';
import type { JobContext, JobOutcome } from './record.js';
import { loadTopologies, topologyAdjuster } from './topology.js';

/** The stored arguments of an apply job (never secrets). */
export const applyJobArgs = z.object({
  ...commonJobArgs,
  states: z.array(z.string()).optional().describe("state files to run instead of the top file's"),
  test: z.boolean().optional().describe('check only (apply --test)'),
  wait: z
    .boolean()
    .optional()
    .describe('wait for host locks instead of failing (async jobs default to waiting)'),
  waitTimeoutMs: z.number().positive().optional().describe('bound of that wait'),
  forceRebuild: z
    .array(z.string())
    .optional()
    .describe(
      'one-shot: hosts whose replica may be rebuilt over data pg_make_replica would otherwise refuse',
    ),
  timeout: z
    .number()
    .positive()
    .optional()
    .describe("seconds each host's run may take (--timeout); past it the host fails, the others go on"),
  rollout: z
    .object({
      size: z.union([
        z.object({ hosts: z.number().int().positive() }).strict(),
        z.object({ percent: z.number().positive().max(100) }).strict(),
      ]),
      failPercent: z.number().min(0).max(100).optional(),
    })
    .strict()
    .optional()
    .describe(
      'a rolling run (--batch, --fail-percent): hosts per batch or a percentage, and the failure share that stops it',
    ),
  onEvent: z
    .string()
    .min(1)
    .optional()
    .describe('--on-event: a command on the controller told of each replica rebuild as JSON on stdin'),
});

export type ApplyJobArgs = z.infer<typeof applyJobArgs>;

export interface ApplyOutcome extends JobOutcome {
  report: RunReport;
}

/** One word for a host's result, stored beside it: ok, changed, would_change, failed, unreachable, not_run (left
 * alone by a cancel or an interrupt), cancelled (stopped between states by a cancel), timeout, error. */
export function applyHostStatus(h: HostRunResult): string {
  if (h.error) return hostErrorStatus(h.error.code);
  if (h.states.some((s) => s.status === 'not_run' && s.comment.startsWith(STOPPED_PREFIX)))
    return 'cancelled';
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
  warn: (message: string) => void = (m) => process.stderr.write(`orch: warning: ${m}\n`),
): Promise<ApplyOutcome> {
  // The recorded topology decides which node the formula treats as the primary (docs/LIFECYCLE.md).
  const topologies = await loadTopologies(project);
  const report = await runStates(project, hosts, {
    adjustPillar: topologyAdjuster(topologies),
    mode: args.test ? 'test' : 'apply',
    only: args.states?.length ? args.states : undefined,
    acceptNewHostKeys: args.acceptNewHostkeys,
    retries: args.retries,
    forceRebuild: args.forceRebuild,
    hostTimeoutMs: typeof args.timeout === 'number' && args.timeout > 0 ? args.timeout * 1000 : undefined,
    rollout: args.rollout,
    onProgress: progressToJob(ctx, onProgress),
    onHostResult: (r) => ctx.hostResult(r.host, applyHostStatus(r), r),
    cancelled: () => ctx.cancelled(),
    stopReason: () => ctx.stopReason(),
    stopBatch: () => ctx.stopRequested(),
  });
  const summary: Record<string, unknown> = { mode: report.mode, ...summarize(report.hosts) };
  if (report.aborted) summary.aborted = report.aborted;
  // Here, not in the CLI, so that a queued apply's worker tells the hook too.
  if (args.onEvent && !args.test) summary.on_event = await tellRebuilds(args.onEvent, ctx.jid, report, warn);
  return { exitCode: runExitCode(report), summary, report };
}

/** One rebuild event per replica the run built, resumed, rolled back or failed to build; what the hook did. */
async function tellRebuilds(
  command: string,
  jid: string,
  report: RunReport,
  warn: (message: string) => void,
): Promise<{ events: number; failed: number }> {
  const { emitEvent, hookWarning, rebuildEvents } = await import('./events.js');
  const events = rebuildEvents(jid, report.hosts);
  let failed = 0;
  for (const ev of events) {
    const warning = hookWarning(await emitEvent(command, ev));
    if (warning) {
      failed++;
      warn(warning);
    }
  }
  return { events: events.length, failed };
}

/** The apply kind: locks its hosts unless it only checks; a queued apply waits for busy hosts unless told not to. */
export const applyKind: JobKind<ApplyJobArgs> = {
  verb: 'apply',
  args: applyJobArgs,
  recordOptions: (args, hosts) => ({
    lockHosts: args.test ? undefined : hosts.map((h) => h.name),
    // Nobody is at a terminal to retry a queued apply.
    wait: args.wait !== false,
    waitTimeoutMs: args.waitTimeoutMs,
  }),
  run: (project, hosts, args, ctx) => executeApply(project, hosts, args, ctx),
};
