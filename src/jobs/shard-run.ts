// Running one claimed shard of a sharded job (PostgreSQL store): the shard's hosts that have no final result yet
// run through the job's kind, the same code path as a whole job, their results going into the one job. The shard's
// lease and its hosts' locks are renewed while it runs; at the end the shard is marked done (the last one ends the
// job, in the store), or, when this worker is stopping by a signal, given back for another worker. It never
// creates jobs and never prints results.
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage, exitCodeFor } from '../errors.js';
import { EXIT } from '../errors/codes.js';
import { loadInventory } from '../inventory/load.js';
import type { HostSpec } from '../inventory/types.js';
import { redactor } from '../secrets/redactor.js';
import { interruptedBy } from './interrupt.js';
import { jobArgs, requireJobKind } from './kinds.js';
import { LiveJob } from './record.js';
import { hasFinalResult } from './shards.js';
import type { ClaimedShard, JobStore, ShardStore } from './store.js';
import { projectForJob } from './job-project.js';

export interface ShardRunOptions {
  worker: string;
  leaseMs: number;
  /** How often to look for a cancel request (default 1 s). */
  cancelPollMs?: number;
  warn?: (message: string) => void;
}

/** How a shard run ended: done (the job's end when it was the last), given back, or lost to another worker. */
export interface ShardRunEnd {
  outcome: 'done' | 'released' | 'lost';
  exitCode: number;
  /** Hosts this run worked on (those with no final result when it claimed the shard). */
  ran: string[];
  finished?: { status: string; exitCode: number };
}

const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;

/** Run a claimed shard to its end; errors of the work are recorded as its hosts' results, never thrown. */
export async function runClaimedShard(
  base: ProjectConfig,
  store: JobStore & ShardStore,
  claim: ClaimedShard,
  opts: ShardRunOptions,
): Promise<ShardRunEnd> {
  const { jid, shard } = claim;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`orch: warning: ${m}\n`));
  // A handover runs only what the previous holder did not finish.
  const pending = claim.hosts.filter((h) => !hasFinalResult(claim.job, h));
  const live = new LiveJob(
    store,
    jid,
    opts.worker,
    opts.leaseMs,
    opts.cancelPollMs ?? 1000,
    warn,
    base.stateDir,
    () => store.heartbeatShard(jid, shard, opts.worker, opts.leaseMs),
  );
  live.start();
  let exitCode: number = EXIT.OK;
  try {
    if (pending.length) exitCode = await runHosts(base, store, claim, pending, opts.leaseMs, live, warn);
  } finally {
    live.stop();
    await live.flush();
  }
  if (live.leaseLost) return { outcome: 'lost', exitCode, ran: pending };
  if (interruptedBy()) {
    // This worker stops; another one runs what is left (hosts not run here have no final result).
    await store.releaseShard(jid, shard, opts.worker);
    return { outcome: 'released', exitCode, ran: pending };
  }
  if (live.storeFailure) exitCode = EXIT.ERROR;
  const done = await store.completeShard(jid, shard, opts.worker, exitCode);
  if (!done.completed) return { outcome: 'lost', exitCode, ran: pending };
  return { outcome: 'done', exitCode, ran: pending, ...(done.finished ? { finished: done.finished } : {}) };
}

/** The kind's run over the pending hosts, under their locks; returns its exit code. */
async function runHosts(
  base: ProjectConfig,
  store: JobStore,
  claim: ClaimedShard,
  pending: string[],
  leaseMs: number,
  live: LiveJob,
  warn: (message: string) => void,
): Promise<number> {
  const ctx = live.context();
  const failAll = (err: unknown, hosts: string[]): number => {
    const code = exitCodeFor(err);
    const error = {
      code: err instanceof OrchError ? err.code : 'INTERNAL',
      message: redactor.redact(errorMessage(err)),
    };
    for (const host of hosts) ctx.hostResult(host, 'error', { host, ok: false, error, states: [] });
    return code;
  };
  let specs: HostSpec[];
  let run: () => Promise<{ exitCode: number }>;
  let lockHosts: string[] | undefined;
  let waitTimeoutMs = DEFAULT_WAIT_TIMEOUT_MS;
  let wait = true;
  try {
    const kind = requireJobKind(claim.job.verb);
    const args = jobArgs(kind, claim.job.args);
    const project = projectForJob(base, claim.job.args);
    const inventory = loadInventory(project);
    const byName = inventory.hosts;
    const unknown = pending.filter((h) => !byName.has(h));
    if (unknown.length)
      failAll(new OrchError('BAD_INPUT', `host no longer in the inventory the job was made with`), unknown);
    specs = pending.filter((h) => byName.has(h)).map((h) => byName.get(h)!);
    if (specs.length === 0) return EXIT.BAD_INPUT;
    const rec = kind.recordOptions?.(args, specs);
    lockHosts = rec?.lockHosts;
    wait = rec?.wait !== false;
    if (rec?.waitTimeoutMs) waitTimeoutMs = rec.waitTimeoutMs;
    run = () => kind.run(project, specs, args, ctx);
  } catch (err) {
    return failAll(err, pending);
  }
  if (lockHosts?.length) {
    const locked = await lockShardHosts(
      store,
      claim.jid,
      lockHosts,
      leaseMs,
      live,
      wait,
      waitTimeoutMs,
      warn,
    );
    if (locked !== true)
      return failAll(
        locked,
        specs.map((h) => h.name),
      );
  }
  try {
    return (await run()).exitCode;
  } catch (err) {
    return failAll(
      err,
      specs.map((h) => h.name).filter((h) => !live.hasResult(h)),
    );
  }
}

/** Lock the shard's hosts under the job's id (a handover takes them back from the dead holder, same job); on a
 * conflict with another job poll up to the timeout; the error to record when they stay locked. */
async function lockShardHosts(
  store: JobStore,
  jid: string,
  hosts: string[],
  leaseMs: number,
  live: LiveJob,
  wait: boolean,
  timeoutMs: number,
  warn: (message: string) => void,
): Promise<true | OrchError> {
  const deadline = Date.now() + timeoutMs;
  let pause = 250;
  for (let attempt = 0; ; attempt++) {
    let got;
    try {
      got = await store.lockHosts(jid, hosts, leaseMs);
    } catch (err) {
      return err instanceof OrchError ? err : new OrchError('JOB_STORE_ERROR', errorMessage(err));
    }
    if (got.ok) return true;
    const ctx = live.context();
    if (!wait || Date.now() >= deadline || ctx.cancelled()) {
      return new OrchError('LOCKED', `host ${got.host} is locked by job ${got.heldBy}`);
    }
    if (attempt === 0) warn(`job ${jid}: host ${got.host} is locked by job ${got.heldBy}; waiting`);
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, deadline - Date.now()))));
    pause = Math.min(pause * 2, 5000);
  }
}
