// What the lifecycle verbs (orch pg switchover, follow) share around their work: the job store opened once (the
// topology records are read from it and written to it), the cluster's hosts locked for the job (not with --test),
// the nodes connected, each step stored with its host's result as it happens and printed, the formula applied to
// the cluster's hosts after a change (lifecycle-converge.ts), and the report.
import type { Command } from 'commander';
import { OrchError, errorMessage, exitCodeFor } from '../errors.js';
import { errorsJson } from '../errors/describe.js';
import type { LifecycleResult } from '../pg/lifecycle/switchover.js';
import type { Cluster } from '../pg/lifecycle/cluster.js';
import { StepLog, formatSteps, type Step } from '../pg/lifecycle/steps.js';
import type { TopologyRecord } from '../pg/lifecycle/topology.js';
import { redactor } from '../secrets/redactor.js';
import { convergeCluster } from './lifecycle-converge.js';
import { globalOptions, printJson, projectFor } from './verb.js';

export interface LifecycleSpec {
  verb: string;
  target: string;
  args: Record<string, unknown>;
  /** A host of the cluster (its pillar names the nodes). */
  anchor: string;
  test: boolean;
  acceptNewHostkeys?: boolean;
}

export type LifecycleBody = (
  c: Cluster,
  log: StepLog,
  record: (rec: Omit<TopologyRecord, 'epoch'>) => Promise<boolean>,
) => Promise<LifecycleResult>;

/** Run a lifecycle verb as a recorded job and print its steps and outcome; sets process.exitCode. */
export async function runLifecycle(cmd: Command, spec: LifecycleSpec, body: LifecycleBody): Promise<void> {
  const [{ openJobStore }, { recordedRun }, { loadTopologies }, { clusterHosts, withCluster }] =
    await Promise.all([
      import('../jobs/open.js'),
      import('../jobs/record.js'),
      import('../jobs/topology.js'),
      import('../pg/lifecycle/cluster.js'),
    ]);
  const project = projectFor(cmd);
  const json = globalOptions(cmd).output === 'json';
  const store = await openJobStore(project);
  try {
    const records = await loadTopologies(project, store);
    const { hosts, record } = await clusterHosts(project, spec.anchor, records);
    let steps: Step[] = [];
    let result: LifecycleResult | undefined;
    let failure: unknown;
    const out = await recordedRun(
      project,
      { verb: spec.verb, target: spec.target, args: spec.args },
      async (ctx) => {
        const log = new StepLog((s, all) => {
          ctx.hostResult(s.host, s.status === 'failed' ? 'failed' : 'ok', {
            steps: all.filter((x) => x.host === s.host),
          });
          if (!json) process.stdout.write(`${redactor.redact(formatSteps([s]))}\n`);
        });
        const put = (rec: Omit<TopologyRecord, 'epoch'>) =>
          store.putTopology({ ...rec, jid: ctx.jid }, record?.epoch ?? 0);
        try {
          result = await withCluster(
            project,
            spec.anchor,
            records,
            { acceptNewHostKeys: spec.acceptNewHostkeys },
            (c) => body(c, log, put),
          );
          // Nodes left out of the new topology (a fenced old primary) are not converged.
          const skip = new Set(result.notFollowing);
          const converge = hosts.filter((h) => !skip.has(h.name));
          if (!spec.test) await convergeCluster(project, converge, store, log, spec.acceptNewHostkeys);
        } catch (err) {
          failure = err;
        }
        steps = log.steps;
        const exitCode = failure ? exitCodeFor(failure) : 0;
        const summary: Record<string, unknown> = failure
          ? { error: errorMessage(failure), code: failure instanceof OrchError ? failure.code : 'INTERNAL' }
          : { state: result!.state, message: result!.message };
        return { exitCode, summary };
      },
      { store, lockHosts: spec.test ? undefined : hosts.map((h) => h.name) },
    );
    if (json) {
      printJson({
        jid: out.jid,
        verb: spec.verb,
        test: spec.test,
        state: result?.state ?? stateOf(failure),
        message: result?.message ?? errorMessage(failure),
        steps,
        topology: result?.topology ?? null,
        ...(failure ? { errors: errorsJson(failure) } : {}),
        exit_code: out.exitCode,
      });
    } else if (result) {
      process.stdout.write(`${redactor.redact(result.message)} (job ${out.jid})\n`);
    }
    if (failure && !json) throw failure;
    if (out.exitCode !== 0) process.exitCode = out.exitCode;
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** The cluster state a failure message names (PG_REFUSED: unchanged). */
function stateOf(err: unknown): string {
  if (err instanceof OrchError && err.code === 'PG_REFUSED') return 'unchanged';
  const m = /state (\w+)/.exec(errorMessage(err));
  return m?.[1] ?? 'unknown';
}
