// The job worker: claims queued jobs from the store and runs each through its kind (src/jobs/kinds.ts), the same
// code path as the synchronous command, recorded by recordedRun (heartbeat, host results, locks, finish).
// It reaps expired leases on every loop; on a signal it claims nothing more and its jobs wind down (record.ts).
// It never creates jobs and never prints results; progress lines go to the log callback.
import type { ProjectConfig } from '../config/project.js';
import { errorMessage, exitCodeFor } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { resolveTargets } from '../inventory/target.js';
import type { HostSpec } from '../inventory/types.js';
import { redactor } from '../secrets/redactor.js';
import type { AnyJobKind } from './kind.js';
import { projectForJob } from './job-project.js';
import { jobArgs, requireJobKind } from './kinds.js';
import { recordedRun } from './record.js';
import { reconcileJobs } from './reconcile.js';
import { jobsSettings } from './settings.js';
import { runClaimedShard } from './shard-run.js';
import { isShardStore, type ClaimedShard, type JobRecord, type JobStore, type ShardStore } from './store.js';
import { workerName } from './who.js';

export interface WorkerOptions {
  /** Exit once the queue is empty and nothing runs, instead of polling forever. */
  drain?: boolean;
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** Lease of claimed jobs (default: orch.yaml jobs.lease). */
  leaseMs?: number;
  /** Name recorded on claimed jobs (default `<hostname>:<pid>`). */
  name?: string;
  /** Longest pause between polls of an empty queue (default 5 s). */
  maxIdleMs?: number;
  log?: (line: string) => void;
}

const MIN_IDLE_MS = 200;

export class JobWorker {
  readonly name: string;
  private readonly active = new Map<string, Promise<void>>();
  private stopping = false;
  /** Ends an idle pause at once when the worker is told to stop. */
  private wake: () => void = () => undefined;
  private storeErrors = 0;
  private readonly handled: string[] = [];
  private readonly handledShards: string[] = [];
  private readonly log: (line: string) => void;
  private readonly leaseMs: number;

  constructor(
    private readonly project: ProjectConfig,
    private readonly store: JobStore,
    private readonly opts: WorkerOptions = {},
  ) {
    this.name = opts.name ?? workerName();
    this.log = opts.log ?? (() => undefined);
    this.leaseMs = opts.leaseMs ?? jobsSettings(project).leaseMs;
  }

  /** Claim and run jobs and shards until drained (or stopped); returns the ids of the jobs it ran and the
   * shards (`<jid>/<n>`). */
  async run(): Promise<{ jobs: string[]; shards: string[]; storeErrors: number }> {
    const concurrency = Math.max(1, Math.floor(this.opts.concurrency ?? 1));
    const maxIdle = this.opts.maxIdleMs ?? 5000;
    let pause = MIN_IDLE_MS;
    while (!this.stopping) {
      await reconcileJobs(this.store).then(
        (ids) => ids.forEach((id) => this.log(`job ${id}: its worker is gone, marked interrupted`)),
        (e: unknown) => this.storeError('reaping expired jobs', e),
      );
      let claimed = 0;
      while (this.active.size < concurrency && !this.stopping) {
        const job = await this.store.claimNext(this.name, this.leaseMs).catch((e: unknown) => {
          this.storeError('claiming a job', e);
          return null;
        });
        if (!job) break;
        claimed++;
        this.start(job);
      }
      // Shards of sharded jobs (PostgreSQL store): one worker among many runs each.
      const shards = isShardStore(this.store) ? this.store : undefined;
      while (shards && this.active.size < concurrency && !this.stopping) {
        const got = await shards.claimShard(this.name, this.leaseMs).catch((e: unknown) => {
          this.storeError('claiming a shard', e);
          return null;
        });
        if (!got) break;
        claimed++;
        this.startShard(shards, got);
      }
      if (this.stopping) break;
      if (this.active.size === 0 && claimed === 0) {
        if (this.opts.drain) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, pause);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        pause = Math.min(pause * 2, maxIdle);
        continue;
      }
      pause = MIN_IDLE_MS;
      const running = [...this.active.values()];
      await (this.active.size >= concurrency
        ? Promise.race(running)
        : Promise.race([...running, sleep(pause)]));
    }
    await Promise.allSettled([...this.active.values()]);
    return { jobs: [...this.handled], shards: [...this.handledShards], storeErrors: this.storeErrors };
  }

  /** Claim no more jobs; run() returns once the jobs running now have ended (they see the signal themselves). */
  stopClaiming(): void {
    this.stopping = true;
    this.wake();
  }

  private start(job: JobRecord): void {
    this.log(`job ${job.jid}: ${job.verb} ${job.target} (queued by ${job.user})`);
    this.handled.push(job.jid);
    const p = runClaimedJob(this.project, this.store, job, { leaseMs: this.leaseMs })
      .then(
        (code) => this.log(`job ${job.jid}: finished, exit ${code}`),
        (e: unknown) => this.log(`job ${job.jid}: ${redactor.redact(errorMessage(e))}`),
      )
      .finally(() => this.active.delete(job.jid));
    this.active.set(job.jid, p);
  }

  private startShard(store: JobStore & ShardStore, claim: ClaimedShard): void {
    const key = `${claim.jid}/${claim.shard}`;
    const of = claim.job.shards?.length ?? '?';
    const name = `job ${claim.jid} shard ${claim.shard + 1}/${of}`;
    const again = claim.attempt > 1 ? `, attempt ${claim.attempt} (handed over)` : '';
    this.log(`${name}: ${claim.job.verb} on ${claim.hosts.length} host(s)${again}`);
    this.handledShards.push(key);
    const p = runClaimedShard(this.project, store, claim, {
      worker: this.name,
      leaseMs: this.leaseMs,
      warn: (m) => this.log(m),
    })
      .then(
        (end) => {
          const ran = `${end.ran.length} host(s) run`;
          if (end.outcome === 'released') this.log(`${name}: given back, ${ran}`);
          else if (end.outcome === 'lost') this.log(`${name}: lost its lease to another worker, ${ran}`);
          else {
            this.log(`${name}: done, ${ran}, exit ${end.exitCode}`);
            if (end.finished)
              this.log(
                `job ${claim.jid}: ${end.finished.status}, exit ${end.finished.exitCode} (its last shard)`,
              );
          }
        },
        (e: unknown) => this.log(`${name}: ${redactor.redact(errorMessage(e))}`),
      )
      .finally(() => this.active.delete(key));
    this.active.set(key, p);
  }

  private storeError(what: string, e: unknown): void {
    this.storeErrors++;
    this.log(`job store error while ${what}: ${errorMessage(e)}`);
  }
}

/** Run one claimed job to its end through its kind (recorded, locked when the kind says so); returns its exit
 * code. Errors that escape are the job's own (already recorded as its failure). */
export async function runClaimedJob(
  base: ProjectConfig,
  store: JobStore,
  job: JobRecord,
  opts: { leaseMs: number },
): Promise<number> {
  const spec = { verb: job.verb, target: job.target, args: job.args };
  let project: ProjectConfig;
  let hosts: HostSpec[];
  let kind: AnyJobKind;
  let args: unknown;
  try {
    kind = requireJobKind(job.verb);
    args = jobArgs(kind, job.args);
    project = projectForJob(base, job.args);
    hosts = resolveTargets(loadInventory(project), job.target, {
      group: optString(job.args.group),
      limit: optString(job.args.limit),
    });
  } catch (err) {
    // Nothing ran: record why, so `orch jobs lookup` explains it.
    const code = exitCodeFor(err);
    await store.finish(job.jid, 'failed', code, { error: redactor.redact(errorMessage(err)) });
    return code;
  }
  const out = await recordedRun(project, spec, (ctx) => kind.run(project, hosts, args, ctx), {
    store,
    claimed: job,
    leaseMs: opts.leaseMs,
    ...kind.recordOptions?.(args, hosts),
  });
  return out.exitCode;
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { projectForJob } from './job-project.js';
