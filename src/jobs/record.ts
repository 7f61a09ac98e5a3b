// Recording a piece of work as a job: every apply, test run, drift check and `orch run`, synchronous or run by a
// worker, goes through recordedRun. It creates (or takes over a claimed) job, takes host locks for applies,
// heartbeats the lease, stores each host's result as it arrives, and always finishes the job. Work that could not
// be recorded is refused before anything runs. It does not decide what the work is or print its results.
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage, exitCodeFor } from '../errors.js';
import { EXIT } from '../errors/codes.js';
import { redactor } from '../secrets/redactor.js';
import { interruptExitCode, interruptedBy, onHardExit } from './interrupt.js';
import { appendJournal, replayJournals, type JournalEntry } from './journal.js';
import { openJobStore } from './open.js';
import { reconcileJobs } from './reconcile.js';
import { jobsSettings } from './settings.js';
import {
  INTERRUPTED_HOST_STATUS,
  RUNNING_HOST_STATUS,
  type JobRecord,
  type JobStatus,
  type JobStore,
} from './store.js';
import { currentUser, workerName } from './who.js';

export interface RecordSpec {
  verb: string;
  target: string;
  /** Everything needed to run the job again, never secrets (workers re-read pillar themselves). */
  args: Record<string, unknown>;
}

export interface RecordOptions {
  /** Lock these hosts for the whole job, all or none (applies; not test runs, drift or `orch run`). */
  lockHosts?: string[];
  /** On a lock conflict, poll until the hosts are free instead of failing at once. */
  wait?: boolean;
  /** Bound of that wait (default 10 minutes). */
  waitTimeoutMs?: number;
  /** Lease of the job and its locks (default: orch.yaml jobs.lease, 60 s). */
  leaseMs?: number;
  /** An open store to use and leave open (a worker's); otherwise the project's store is opened and closed. */
  store?: JobStore;
  /** A job this process already claimed (queued -> running); otherwise a running job is created. */
  claimed?: JobRecord;
  /** Worker name to heartbeat as (default `<hostname>:<pid>`). */
  worker?: string;
  /** How often to look for a cancel request (default 1 s). */
  cancelPollMs?: number;
  /** Where warnings about the record (not the work) go; default stderr. */
  warn?: (message: string) => void;
}

/** What the work gets: its job id, a way to store host results at once, and the cancel flag. */
export interface JobContext {
  jid: string;
  /** Store one host's result now (writes are queued in order; finish waits for them). */
  hostResult(host: string, status: string, result: unknown): void;
  /** True once someone asked the job to stop, the process got SIGINT/SIGTERM, or the job lost its lease. */
  cancelled(): boolean;
  /** Why the job stops early, for the "not run" message of hosts left alone (undefined while it goes on). */
  stopReason(): string | undefined;
  /** Where a host stands while it runs (its phase, the last line of a long step): kept in the store as the host's
   * record with status `running` until its result replaces it, at most about once a second per host. */
  hostProgress(host: string, progress: HostProgress): void;
  /** True once `orch jobs cancel` asked or the job lost its lease (not on a signal): a host's running batch then
   * stops at its next safe point, between states, instead of running to its end. */
  stopRequested(): boolean;
}

/** A host's progress as stored (status `running`) until its result arrives. */
export interface HostProgress {
  phase: string;
  /** The last line a long step printed (masked), e.g. pg_basebackup's progress. */
  line?: string;
}

export { RUNNING_HOST_STATUS } from './store.js';

/** The progress of a stored host record still running (or left `interrupted` without a result when its job
 * ended), or undefined when it holds a result. */
export function progressOf(status: string, result: unknown): (HostProgress & { at?: string }) | undefined {
  if (status !== RUNNING_HOST_STATUS && status !== INTERRUPTED_HOST_STATUS) return undefined;
  if (!result || typeof result !== 'object') return undefined;
  const p = (result as { progress?: unknown }).progress;
  if (!p || typeof p !== 'object' || typeof (p as HostProgress).phase !== 'string') return undefined;
  return p as HostProgress & { at?: string };
}

const PROGRESS_EVERY_MS = 1000;

/** What the work returns: the exit code decides succeeded/failed unless status says otherwise. */
export interface JobOutcome {
  exitCode: number;
  summary?: Record<string, unknown>;
  status?: JobStatus;
}

const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;

/** Run fn as a recorded job; throws JOB_STORE_ERROR (nothing ran) when the job cannot be recorded, LOCKED on a
 * host lock conflict. The returned value is fn's, with the job id. */
export async function recordedRun<R extends JobOutcome>(
  project: ProjectConfig,
  spec: RecordSpec,
  fn: (ctx: JobContext) => Promise<R>,
  opts: RecordOptions = {},
): Promise<R & { jid: string }> {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`orch: warning: ${m}\n`));
  const leaseMs = opts.leaseMs ?? jobsSettings(project).leaseMs;
  const worker = opts.claimed?.worker ?? opts.worker ?? workerName();
  const refuse = (err: unknown): OrchError =>
    new OrchError(
      'JOB_STORE_ERROR',
      `refusing to start ${spec.verb}: it could not be recorded in the job store: ${errorMessage(err)}`,
      { cause: err },
    );

  let store: JobStore;
  try {
    store = opts.store ?? (await openJobStore(project));
  } catch (err) {
    throw refuse(err);
  }
  const ownStore = opts.store === undefined;
  try {
    let job: JobRecord;
    try {
      job =
        opts.claimed ??
        (await store.create({
          verb: spec.verb,
          target: spec.target,
          args: redactor.redactDeep(spec.args),
          user: currentUser(),
          status: 'running',
          worker,
          leaseMs,
        }));
    } catch (err) {
      throw refuse(err);
    }
    const jid = job.jid;
    const live = new LiveJob(store, jid, worker, leaseMs, opts.cancelPollMs ?? 1000, warn, project.stateDir);
    live.start();
    try {
      if (opts.lockHosts?.length) await takeLocks(store, jid, opts.lockHosts, leaseMs, opts, live);
    } catch (err) {
      live.stop();
      const code = err instanceof OrchError && err.code === 'LOCKED' ? EXIT.LOCKED : exitCodeFor(err);
      await store
        .finish(jid, 'failed', code, { error: redactor.redact(errorMessage(err)) })
        .catch((e: unknown) => warn(`job ${jid}: could not record its end: ${errorMessage(e)}`));
      throw err;
    }

    // A second SIGINT/SIGTERM exits at once: record what is known and free the locks on the way out.
    const dropHardExit = onHardExit(() => live.hardExit());
    let status: JobStatus = 'failed';
    let exitCode: number = EXIT.ERROR;
    let summary: Record<string, unknown> | undefined;
    let result: (R & { jid: string }) | undefined;
    try {
      const out = await fn(live.context());
      exitCode = out.exitCode;
      summary = out.summary;
      status =
        out.status ?? (live.cancelRequested ? 'cancelled' : exitCode === EXIT.OK ? 'succeeded' : 'failed');
      const signal = interruptedBy();
      if (signal) {
        // Whatever the hosts did is in their results; the job as a whole did not run to its end.
        status = 'interrupted';
        exitCode = interruptExitCode(signal);
        summary = { ...summary, interrupted: signal };
      }
      result = { ...out, exitCode, jid };
    } catch (err) {
      exitCode = exitCodeFor(err);
      summary = { error: redactor.redact(errorMessage(err)) };
      status = live.cancelRequested ? 'cancelled' : 'failed';
      const signal = interruptedBy();
      if (signal) {
        status = 'interrupted';
        exitCode = interruptExitCode(signal);
        summary.interrupted = signal;
      }
      throw err;
    } finally {
      dropHardExit();
      live.stop();
      await live.flush();
      await live.end(status, exitCode, summary === undefined ? undefined : redactor.redactDeep(summary));
    }
    if (live.storeFailure && !interruptedBy()) {
      // The hosts' work is done, but the record of it is not (yet): never report that as a success.
      warn(
        `job ${jid}: the job store failed during the run (${live.storeFailure}); ` +
          `what the hosts reported is kept in ${live.journalPath ?? 'no journal (it could not be written either)'} ` +
          'and goes to the store when orch next opens it',
      );
      return { ...result, exitCode: EXIT.ERROR };
    }
    return result;
  } finally {
    if (ownStore) await store.close().catch(() => undefined);
  }
}

/** Lock every host or fail with LOCKED naming the host and its holder; with opts.wait, poll up to the timeout. */
async function takeLocks(
  store: JobStore,
  jid: string,
  hosts: string[],
  leaseMs: number,
  opts: RecordOptions,
  live: LiveJob,
): Promise<void> {
  const deadline = Date.now() + (opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
  let pause = 250;
  for (let attempt = 0; ; attempt++) {
    let got = await store.lockHosts(jid, hosts, leaseMs);
    if (got.ok) return;
    // The holder may be a job whose process died (kill -9, a crash): then its locks are free now.
    const holderJob = await store.get(got.heldBy).catch(() => null);
    const freed = holderJob ? await reconcileJobs(store, [holderJob]).catch((): string[] => []) : [];
    if (holderJob && freed.includes(holderJob.jid)) {
      got = await store.lockHosts(jid, hosts, leaseMs);
      if (got.ok) return;
    }
    if (!opts.wait || Date.now() >= deadline || live.cancelRequested || interruptedBy()) {
      const holder = await store.get(got.heldBy).catch(() => null);
      const about = holder
        ? ` (${holder.verb} ${holder.target} by ${holder.user}, ${holder.status} since ${holder.startedAt ?? holder.createdAt})`
        : '';
      const hint = opts.wait ? `; still locked after waiting` : '; use --wait to wait for it';
      throw new OrchError('LOCKED', `host ${got.host} is locked by job ${got.heldBy}${about}${hint}`);
    }
    if (attempt === 0) live.note(`host ${got.host} is locked by job ${got.heldBy}; waiting`);
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
    pause = Math.min(pause * 2, 5000);
  }
}

/** The bookkeeping of a running job: heartbeat, cancel polling, ordered host-result writes. A shard of a sharded
 * job (shard-run.ts) uses it too, with its own heartbeat (the shard's lease, not the job's). */
export class LiveJob {
  cancelRequested = false;
  private lost = false;
  private heartbeatFailures = 0;
  private writes: Promise<void> = Promise.resolve();
  /** Host results handed over but not stored yet (written directly when the process must exit at once). */
  private readonly unwritten = new Set<{ host: string; status: string; result: unknown }>();
  private timers: NodeJS.Timeout[] = [];
  /** Hosts whose result arrived: their progress is never written again. */
  private readonly finished = new Set<string>();
  private readonly progressDue = new Map<string, HostProgress>();
  private readonly progressAt = new Map<string, number>();
  /** Each running host's newest progress, written or not: what a hard exit records it was last seen doing. */
  private readonly lastProgress = new Map<string, { p: HostProgress; at: string }>();
  private progressTimer: NodeJS.Timeout | undefined;
  /** Set by a hard exit: queued progress writes are dropped, the host records say interrupted. */
  private exiting = false;

  constructor(
    private readonly store: JobStore,
    private readonly jid: string,
    worker: string,
    private readonly leaseMs: number,
    private readonly cancelPollMs: number,
    private readonly warn: (m: string) => void,
    private readonly stateDir: string,
    /** Renews the lease; false once it is no longer ours (default: the job's own heartbeat). */
    private readonly beat: () => Promise<boolean> = () => store.heartbeat(jid, worker, leaseMs),
  ) {}

  /** Whether host's result was handed over (stored or queued to be). */
  hasResult(host: string): boolean {
    return this.finished.has(host);
  }

  /** True once the lease was found to be someone else's. */
  get leaseLost(): boolean {
    return this.lost;
  }

  /** Set once a write to the store failed: what it was. */
  storeFailure: string | undefined = undefined;
  /** Where the writes the store refused were kept. */
  journalPath: string | undefined;

  /** Keep an entry the store refused in the local journal (the only copy then). */
  private journal(entry: JournalEntry, err: unknown): void {
    this.storeFailure ??= errorMessage(err);
    try {
      this.journalPath = appendJournal(this.stateDir, this.jid, entry);
    } catch (e) {
      this.warn(
        `job ${this.jid}: could not keep it in the local journal either, it is lost: ${errorMessage(e)}`,
      );
    }
  }

  /** Record the job's end; on failure keep it in the journal. A journal of this job is written out when the
   * store took the end (the store may have come back during the run). */
  async end(status: JobStatus, exitCode: number, summary?: Record<string, unknown>): Promise<void> {
    const at = new Date().toISOString();
    try {
      await this.store.finish(this.jid, status, exitCode, summary);
    } catch (err) {
      this.warn(`job ${this.jid}: could not record its end: ${errorMessage(err)}`);
      this.journal({ kind: 'finish', status, exitCode, summary, at }, err);
      return;
    }
    if (this.journalPath) {
      const r = await replayJournals(this.store, this.stateDir);
      if (r.written.includes(this.jid)) this.journalPath = undefined;
    }
  }

  start(): void {
    const beat = setInterval(
      () => {
        this.beat().then(
          (mine) => {
            if (!mine && !this.lost) {
              // Someone reaped the job (our lease ran out): stop before touching more hosts.
              this.lost = true;
              this.warn(`job ${this.jid}: lost its lease; stopping before further hosts`);
            }
          },
          (e: unknown) => {
            if (this.heartbeatFailures++ === 0)
              this.warn(`job ${this.jid}: heartbeat failed: ${errorMessage(e)}`);
          },
        );
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    const poll = setInterval(() => {
      if (this.cancelRequested) return;
      this.store.isCancelRequested(this.jid).then(
        (yes) => {
          if (yes) this.cancelRequested = true;
        },
        () => undefined,
      );
    }, this.cancelPollMs);
    // Bookkeeping timers must never keep a finished process alive.
    beat.unref();
    poll.unref();
    this.timers.push(beat, poll);
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.progressTimer);
    this.progressDue.clear();
  }

  /** Keep the newest progress of a host; write it now when the last write is a second old, else soon. */
  private progress(host: string, p: HostProgress): void {
    if (this.finished.has(host) || this.exiting) return;
    this.lastProgress.set(host, { p, at: new Date().toISOString() });
    this.progressDue.set(host, p);
    const wait = (this.progressAt.get(host) ?? 0) + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) this.writeProgress(host);
    else if (!this.progressTimer) {
      this.progressTimer = setTimeout(() => {
        this.progressTimer = undefined;
        for (const h of [...this.progressDue.keys()]) this.progress(h, this.progressDue.get(h)!);
      }, wait);
      this.progressTimer.unref();
    }
  }

  private writeProgress(host: string): void {
    const p = this.progressDue.get(host);
    this.progressDue.delete(host);
    if (!p) return;
    this.progressAt.set(host, Date.now());
    const result = { progress: { ...redactor.redactDeep(p), at: new Date().toISOString() } };
    // In the same queue as results, and checked again when its turn comes: progress never overwrites a result.
    this.writes = this.writes.then(() =>
      this.finished.has(host) || this.exiting
        ? undefined
        : this.store.putHostResult(this.jid, host, RUNNING_HOST_STATUS, result).catch(() => undefined),
    );
  }

  note(m: string): void {
    this.warn(m);
  }

  /** Wait for every queued host-result write. */
  flush(): Promise<void> {
    return this.writes;
  }

  context(): JobContext {
    return {
      jid: this.jid,
      hostProgress: (host, p) => this.progress(host, p),
      hostResult: (host, status, result) => {
        this.finished.add(host);
        this.progressDue.delete(host);
        const safe = redactor.redactDeep(result);
        const entry = { host, status, result: safe };
        this.unwritten.add(entry);
        this.writes = this.writes.then(() =>
          this.store
            .putHostResult(this.jid, host, status, safe)
            .then(() => {
              this.unwritten.delete(entry);
            })
            .catch((e: unknown) => {
              this.unwritten.delete(entry);
              this.warn(`job ${this.jid}: could not store the result of ${host}: ${errorMessage(e)}`);
              this.journal({ kind: 'host', host, status, result: safe, at: new Date().toISOString() }, e);
            }),
        );
      },
      cancelled: () => this.cancelRequested || this.lost || interruptedBy() !== undefined,
      stopRequested: () => this.cancelRequested || this.lost,
      stopReason: () => {
        const signal = interruptedBy();
        if (signal) return `interrupted by ${signal}`;
        if (this.cancelRequested) return 'cancelled';
        if (this.lost) return 'the job lost its lease';
        return undefined;
      },
    };
  }

  /** The bookkeeping of a process exiting at once: results not yet stored, then the end (locks go with it). On
   * the SQLite store each call does its work before it returns; PostgreSQL gets a short grace. */
  hardExit(): Promise<unknown> {
    this.exiting = true;
    this.stop();
    const signal = interruptedBy() ?? 'SIGINT';
    const writes = [...this.unwritten].map((e) =>
      this.store.putHostResult(this.jid, e.host, e.status, e.result).catch(() => undefined),
    );
    // Hosts still in a step: no result will come from this process, so never leave them `running`.
    for (const [host, { p, at }] of this.lastProgress) {
      if (this.finished.has(host)) continue;
      const result = { progress: { ...redactor.redactDeep(p), at } };
      writes.push(
        this.store.putHostResult(this.jid, host, INTERRUPTED_HOST_STATUS, result).catch(() => undefined),
      );
    }
    const end = this.store
      .finish(this.jid, 'interrupted', interruptExitCode(signal), {
        interrupted: signal,
        error: `exited at once on a second ${signal}; hosts without a result were not confirmed`,
      })
      .catch(() => undefined);
    return Promise.all([...writes, end]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
