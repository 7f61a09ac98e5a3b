// What the lifecycle verbs (orch pg switchover, promote, follow, rejoin) share at the terminal: --async queues the
// job (the cluster's hosts stored to be locked) for a worker; otherwise the job runs here through its kind's body
// (src/jobs/pg-lifecycle.ts: the cluster's hosts locked unless --test, each step stored and printed as it
// happens, the formula applied after a change), and the report is printed.
import type { Command } from 'commander';
import { errorMessage } from '../errors.js';
import { errorsJson } from '../errors/describe.js';
import { formatSteps } from '../pg/lifecycle/steps.js';
import { redactor } from '../secrets/redactor.js';
import { globalOptions, printJson, projectFor } from './verb.js';

export interface LifecycleSpec {
  verb: string;
  target: string;
  /** The job's stored arguments (the kind's schema). */
  args: { test: boolean; acceptNewHostkeys?: boolean } & Record<string, unknown>;
  async?: boolean;
}

/** Run a lifecycle verb as a recorded job (or queue it) and print its steps and outcome; sets process.exitCode. */
export async function runLifecycle(cmd: Command, spec: LifecycleSpec): Promise<void> {
  const [{ openJobStore }, { recordedRun }, { loadTopologies }, { clusterHosts }, lc] = await Promise.all([
    import('../jobs/open.js'),
    import('../jobs/record.js'),
    import('../jobs/topology.js'),
    import('../pg/lifecycle/cluster.js'),
    import('../jobs/pg-lifecycle.js'),
  ]);
  const project = projectFor(cmd);
  const g = globalOptions(cmd);
  const json = g.output === 'json';
  const def = lc.lifecycleDef(spec.verb);
  const store = await openJobStore(project);
  try {
    const records = await loadTopologies(project, store);
    const { hosts } = await clusterHosts(project, def.anchor(spec.args), records);
    const args = {
      ...spec.args,
      cluster: hosts.map((h) => h.name),
      ...(g.inventory?.length ? { inventory: project.inventoryPaths } : {}),
    };
    if (spec.async) {
      await store.close().catch(() => undefined);
      const { submitAsync } = await import('../jobs/async.js');
      process.exitCode = await submitAsync(project, { verb: spec.verb, target: spec.target, args }, json);
      return;
    }
    const out = await recordedRun(
      project,
      { verb: spec.verb, target: spec.target, args },
      (ctx) =>
        lc.executeLifecycle(project, def, args, ctx, {
          store,
          onStep: (s) => {
            if (!json) process.stdout.write(`${redactor.redact(formatSteps([s]))}\n`);
          },
        }),
      { store, lockHosts: spec.args.test ? undefined : hosts.map((h) => h.name) },
    );
    const { result, failure } = out;
    if (json) {
      printJson({
        jid: out.jid,
        verb: spec.verb,
        test: spec.args.test,
        state: result?.state ?? lc.stateOf(failure),
        message: result?.message ?? errorMessage(failure),
        steps: out.steps,
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
