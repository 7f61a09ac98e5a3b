// The lifecycle verbs as job kinds (`orch pg switchover|promote|follow|rejoin`, run at once or queued with
// --async): the schema of each verb's stored arguments, and the one way a job of them runs, whether the CLI or a
// worker runs it: the cluster connected, each step stored with its host's result as it happens (`orch jobs lookup`
// shows them), the topology written compare-and-set to the job store, the formula applied to the cluster's hosts
// after a change (pg-converge.ts). It neither prints nor reads the terminal: steps go to onStep.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage, exitCodeFor } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import type { Cluster } from '../pg/lifecycle/cluster.js';
import { StepLog, type Step } from '../pg/lifecycle/steps.js';
import type { LifecycleResult, RecordTopology } from '../pg/lifecycle/switchover.js';
import type { TopologyRecord } from '../pg/lifecycle/topology.js';
import { scrubbedEnv } from '../secrets/child-env.js';
import { commonJobArgs, type JobKind } from './kind.js';
import { openJobStore } from './open.js';
import type { JobContext, JobOutcome } from './record.js';
import type { JobStore } from './store.js';

const base = {
  ...commonJobArgs,
  test: z.boolean().describe('plan only (--test): change nothing'),
  wait: z.number().positive().describe('longest wait, in seconds, for each node to stream'),
  onEvent: z
    .string()
    .optional()
    .describe('--on-event: a command on the controller that gets the outcome as JSON on stdin'),
  cluster: z
    .array(z.string())
    .optional()
    .describe("the cluster's hosts when the job was queued: locked for the whole job (not with --test)"),
};

export const pgSwitchoverArgs = z.object({
  ...base,
  standby: z.string().min(1).describe('the standby to promote'),
  maxLag: z.number().int().positive().describe('largest replay lag, in bytes, preflight accepts'),
});
export const pgPromoteArgs = z.object({
  ...base,
  standby: z.string().min(1).describe('the standby to promote'),
  fenceCommand: z
    .string()
    .optional()
    .describe('run on the controller for an old primary unreachable over SSH'),
  allowBehind: z.boolean().describe('promote even when another standby received more WAL'),
});
export const pgFollowArgs = z.object({
  ...base,
  standbys: z.array(z.string()).describe('the standbys to repoint (empty: every node but the primary)'),
  clusterHost: z.string().optional().describe('a host of the cluster when no standby is named'),
});
export const pgRejoinArgs = z.object({
  ...base,
  host: z.string().min(1).describe('the node to rejoin'),
  rebuildIfNeeded: z
    .boolean()
    .optional()
    .describe(
      'when pg_rewind cannot work, run the guarded rebuild (pg_make_replica forced) instead of refusing',
    ),
});

export type PgSwitchoverArgs = z.infer<typeof pgSwitchoverArgs>;
export type PgPromoteArgs = z.infer<typeof pgPromoteArgs>;
export type PgFollowArgs = z.infer<typeof pgFollowArgs>;
export type PgRejoinArgs = z.infer<typeof pgRejoinArgs>;

type Body = (c: Cluster, log: StepLog, record: RecordTopology) => Promise<LifecycleResult>;

/** What a verb's body may ask of the job around it. */
interface BodyEnv {
  /** The guarded rebuild of one node: the formula applied to it with --force-rebuild for it. */
  rebuild(host: string): Promise<string>;
}

interface VerbDef<A> {
  verb: string;
  /** A host of the cluster (its pillar names the nodes). */
  anchor(args: A): string;
  body(args: A, env: BodyEnv): Promise<Body>;
}

/** Run the fence command (/bin/sh -c) with ORCH_FENCE_HOST; its exit status (1 when it could not run). */
export function runFence(command: string, host: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: scrubbedEnv({ ORCH_FENCE_HOST: host }),
    });
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const switchoverDef: VerbDef<PgSwitchoverArgs> = {
  verb: 'pg switchover',
  anchor: (a) => a.standby,
  body: async (a) => {
    const { switchover } = await import('../pg/lifecycle/switchover.js');
    return (c, log, record) =>
      switchover(
        c,
        { candidate: a.standby, test: a.test, maxLagBytes: a.maxLag, waitSeconds: a.wait },
        log,
        record,
      );
  },
};

const promoteDef: VerbDef<PgPromoteArgs> = {
  verb: 'pg promote',
  anchor: (a) => a.standby,
  body: async (a) => {
    const { promote } = await import('../pg/lifecycle/promote.js');
    const fc = a.fenceCommand;
    return (c, log, record) =>
      promote(
        c,
        {
          candidate: a.standby,
          test: a.test,
          fenceCommand: fc,
          fence: fc ? (host) => runFence(fc, host) : undefined,
          allowBehind: a.allowBehind,
          waitSeconds: a.wait,
        },
        log,
        record,
      );
  },
};

const followDef: VerbDef<PgFollowArgs> = {
  verb: 'pg follow',
  anchor: (a) => {
    const anchor = a.standbys[0] ?? a.clusterHost;
    if (!anchor)
      throw new OrchError('BAD_INPUT', 'name a standby, or a host of the cluster with --cluster-host');
    return anchor;
  },
  body: async (a) => {
    const { follow } = await import('../pg/lifecycle/follow.js');
    return (c, log, record) =>
      follow(c, { standbys: a.standbys, test: a.test, waitSeconds: a.wait }, log, record);
  },
};

const rejoinDef: VerbDef<PgRejoinArgs> = {
  verb: 'pg rejoin',
  anchor: (a) => a.host,
  body: async (a, env) => {
    const { rejoin } = await import('../pg/lifecycle/rejoin.js');
    return (c, log, record) =>
      rejoin(
        c,
        {
          host: a.host,
          test: a.test,
          waitSeconds: a.wait,
          rebuildIfNeeded: a.rebuildIfNeeded === true,
          rebuild: env.rebuild,
        },
        log,
        record,
      );
  },
};

const DEFS = [switchoverDef, promoteDef, followDef, rejoinDef] as VerbDef<Record<string, unknown>>[];

export interface LifecycleRun extends JobOutcome {
  steps: Step[];
  result?: LifecycleResult;
  failure?: unknown;
}

export interface LifecycleRunOptions {
  /** An open job store (the CLI's); else the project's is opened and closed. */
  store?: JobStore;
  /** Each step as it happens (the CLI prints it). */
  onStep?: (s: Step) => void;
  /** Where a warning about the --on-event hook goes (default stderr). */
  warn?: (message: string) => void;
}

/** Run a lifecycle verb's job body as ctx: never throws for the verb's own failure (it is in `failure`). */
export async function executeLifecycle<
  A extends { test: boolean; acceptNewHostkeys?: boolean; onEvent?: string },
>(
  project: ProjectConfig,
  def: VerbDef<A>,
  args: A,
  ctx: JobContext,
  opts: LifecycleRunOptions = {},
): Promise<LifecycleRun> {
  const [{ loadTopologies }, { clusterHosts, withCluster }, { convergeCluster, rebuildNode }] =
    await Promise.all([
      import('./topology.js'),
      import('../pg/lifecycle/cluster.js'),
      import('./pg-converge.js'),
    ]);
  const store = opts.store ?? (await openJobStore(project));
  const log = new StepLog((s, all) => {
    ctx.hostResult(s.host, s.status === 'failed' ? 'failed' : 'ok', {
      steps: all.filter((x) => x.host === s.host),
    });
    opts.onStep?.(s);
  });
  let result: LifecycleResult | undefined;
  let failure: unknown;
  try {
    const anchor = def.anchor(args);
    const records = await loadTopologies(project, store);
    const { hosts, record } = await clusterHosts(project, anchor, records);
    const put = (rec: Omit<TopologyRecord, 'epoch'>) =>
      store.putTopology({ ...rec, jid: ctx.jid }, record?.epoch ?? 0);
    const body = await def.body(args, {
      rebuild: (host) => {
        const spec = hosts.find((h) => h.name === host);
        if (!spec) throw new OrchError('INTERNAL', `${host} is not a host of the cluster`);
        return rebuildNode(project, spec, store, args.acceptNewHostkeys);
      },
    });
    result = await withCluster(project, anchor, records, { acceptNewHostKeys: args.acceptNewHostkeys }, (c) =>
      body(c, log, put),
    );
    // Nodes left out of the new topology (a fenced old primary) are not converged.
    const skip = new Set(result.notFollowing);
    if (!args.test)
      await convergeCluster(
        project,
        hosts.filter((h) => !skip.has(h.name)),
        store,
        log,
        args.acceptNewHostkeys,
      );
  } catch (err) {
    failure = err;
  } finally {
    if (!opts.store) await store.close().catch(() => undefined);
  }
  const exitCode = failure ? exitCodeFor(failure) : 0;
  const summary: Record<string, unknown> = failure
    ? {
        error: errorMessage(failure),
        code: failure instanceof OrchError ? failure.code : 'INTERNAL',
        state: stateOf(failure),
      }
    : { state: result!.state, message: result!.message };
  // The hook hears of every run that was not a plan, refusals included (someone asked for a promotion).
  if (args.onEvent && !args.test) {
    const { emitEvent, hookWarning, lifecycleEvent } = await import('./events.js');
    const hook = await emitEvent(
      args.onEvent,
      lifecycleEvent(def.verb, ctx.jid, {
        exitCode,
        state: String(summary.state),
        message: failure ? errorMessage(failure) : result!.message,
        steps: log.steps,
        topology: result?.topology,
      }),
    );
    const warning = hookWarning(hook);
    summary.on_event = { ok: hook.ok, code: hook.code, ...(warning ? { warning } : {}) };
    if (warning) (opts.warn ?? ((m: string) => process.stderr.write(`orch: warning: ${m}\n`)))(warning);
  }
  return { exitCode, summary, steps: log.steps, result, failure };
}

/** The cluster state a failure message names (PG_REFUSED: unchanged). */
export function stateOf(err: unknown): string {
  if (err instanceof OrchError && err.code === 'PG_REFUSED') return 'unchanged';
  const m = /state (\w+)/.exec(errorMessage(err));
  return m?.[1] ?? 'unknown';
}

function lifecycleKind<A extends z.infer<z.ZodObject<typeof base>>>(
  def: VerbDef<A>,
  schema: z.ZodType<A>,
): JobKind<A> {
  return {
    verb: def.verb,
    args: schema,
    recordOptions: (args, hosts: HostSpec[]) => ({
      lockHosts: args.test ? undefined : (args.cluster ?? hosts.map((h) => h.name)),
    }),
    run: (project, _hosts, args, ctx) => executeLifecycle(project, def, args, ctx),
  };
}

/** The definition of a lifecycle verb, for the CLI. */
export function lifecycleDef(verb: string): VerbDef<Record<string, unknown>> {
  const def = DEFS.find((d) => d.verb === verb);
  if (!def) throw new OrchError('INTERNAL', `not a lifecycle verb: ${verb}`);
  return def;
}

export const pgSwitchoverKind: JobKind<PgSwitchoverArgs> = lifecycleKind(switchoverDef, pgSwitchoverArgs);
export const pgPromoteKind: JobKind<PgPromoteArgs> = lifecycleKind(promoteDef, pgPromoteArgs);
export const pgFollowKind: JobKind<PgFollowArgs> = lifecycleKind(followDef, pgFollowArgs);
export const pgRejoinKind: JobKind<PgRejoinArgs> = lifecycleKind(rejoinDef, pgRejoinArgs);
