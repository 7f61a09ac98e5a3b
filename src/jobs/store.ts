// The job store contract: every apply, drift check and run is a job record with per-host results, and async jobs
// are claimed by workers under a lease. Host locks are leases tied to a job. This file only defines the shapes;
// the embedded (SQLite) and PostgreSQL stores implement them, and neither runs jobs nor talks to hosts.
import type { TopologyStore } from '../pg/lifecycle/topology.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export const JOB_STATUSES: readonly JobStatus[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
];

/** Statuses a job never leaves. */
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** A host record holding progress (`{progress: {phase, line?, at}}`) while its host runs, not a result. */
export const RUNNING_HOST_STATUS = 'running';

/** What a host record still `running` becomes when its job ends without its result: nothing confirmed what the
 * host did after its last progress. Every store turns such records into this when the job reaches a final status. */
export const INTERRUPTED_HOST_STATUS = 'interrupted';

export interface HostResultRecord {
  host: string;
  status: string;
  result: unknown;
  updatedAt: string;
}

export interface JobRecord {
  jid: string;
  verb: string;
  target: string;
  args: Record<string, unknown>;
  user: string;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  worker?: string;
  leaseUntil?: string;
  exitCode?: number;
  summary?: Record<string, unknown>;
  /** Set once someone asked a running job to stop; the worker checks it and finishes the job as cancelled. */
  cancelRequested?: boolean;
  /** Hosts per shard when the job was split over workers (PostgreSQL store, `--shard-size`); absent otherwise. */
  shardSize?: number;
  /** The shards of a sharded job, by number (read by get(); list() leaves them out). */
  shards?: ShardRecord[];
  hosts: Record<string, HostResultRecord>;
}

/** A shard waits (queued), is being run by one worker under a lease (claimed), or is over (done). */
export type ShardState = 'queued' | 'claimed' | 'done';

/** One shard of a sharded job: its hosts and who holds it. */
export interface ShardRecord {
  shard: number;
  state: ShardState;
  /** The worker that holds it (claimed) or last held it (done). */
  worker?: string;
  leaseUntil?: string;
  /** How many times a worker claimed it (more than 1: handed over). */
  attempt: number;
  exitCode?: number;
  hosts: string[];
}

export interface NewJob {
  verb: string;
  target: string;
  args: Record<string, unknown>;
  user: string;
  status: 'queued' | 'running';
  /** Who runs it; required for jobs created already running (synchronous verbs), who then heartbeat as it. */
  worker?: string;
  /** Lease of a job created running (default DEFAULT_LEASE_MS); the runner keeps it alive with heartbeat(). */
  leaseMs?: number;
}

export interface JobFilter {
  /** Jobs whose target is this host or that have a result for it. */
  host?: string;
  target?: string;
  verb?: string;
  status?: JobStatus;
  /** Created at or after. */
  since?: Date;
  /** At most this many (default 100). */
  limit?: number;
}

export type LockResult = { ok: true } | { ok: false; host: string; heldBy: string };

/** Jobs, host locks, and the recorded topology of replication clusters (docs/LIFECYCLE.md). */
export interface JobStore extends TopologyStore {
  /** Record a new job (queued for a worker, or already running in the caller). */
  create(job: NewJob): Promise<JobRecord>;
  /** Take the oldest queued job for this worker, atomically (queued -> running); null when none. */
  claimNext(worker: string, leaseMs: number): Promise<JobRecord | null>;
  /** Extend the lease of a running job and its host locks; false if the job is no longer this worker's. */
  heartbeat(jid: string, worker: string, leaseMs: number): Promise<boolean>;
  /** Upsert one host's result; visible to every reader at once. Progress (status `running`) of a job that already
   * ended is dropped: it must not make the record claim the host still runs. */
  putHostResult(jid: string, host: string, status: string, result: unknown): Promise<void>;
  /** Set the final status; clears the lease, releases the job's host locks, and turns its host records still
   * `running` into `interrupted` (as markInterrupted and reapExpired do). */
  finish(jid: string, status: JobStatus, exitCode: number, summary?: Record<string, unknown>): Promise<void>;
  get(jid: string): Promise<JobRecord | null>;
  /** Jobs matching every given filter, newest first. */
  list(f: JobFilter): Promise<JobRecord[]>;
  /** A queued job becomes cancelled at once; a running one is flagged for its worker. Null if no such job. */
  requestCancel(jid: string): Promise<JobRecord | null>;
  isCancelRequested(jid: string): Promise<boolean>;
  /** A running job still held by this worker becomes interrupted (its worker is known to be gone) and loses its
   * locks; false when it already ended or another worker holds it. */
  markInterrupted(
    jid: string,
    worker: string,
    exitCode: number,
    summary: Record<string, unknown>,
  ): Promise<boolean>;
  /** Running jobs whose lease expired become interrupted and lose their locks; returns their ids. */
  reapExpired(now?: Date): Promise<string[]>;
  /** Delete finished jobs (and their results) created before olderThan; returns how many. */
  prune(olderThan: Date): Promise<number>;
  /** Lock every host for the job, or none: on conflict names the first busy host and the job holding it. */
  lockHosts(jid: string, hosts: string[], leaseMs: number): Promise<LockResult>;
  unlockHosts(jid: string): Promise<void>;
  close(): Promise<void>;
}

/** A shard a worker just claimed, with its job as it stood then (host results included). */
export interface ClaimedShard {
  jid: string;
  shard: number;
  attempt: number;
  hosts: string[];
  job: JobRecord;
}

/** What completing a shard did: nothing when the shard was no longer this worker's; the job's end when it was
 * the last one. */
export interface ShardCompletion {
  completed: boolean;
  finished?: { status: JobStatus; exitCode: number };
}

/** Jobs split into shards that any number of workers claim (the PostgreSQL store only). */
export interface ShardStore {
  /** Record a queued job whose hosts are split into these shards (each a non-empty list), all or nothing. */
  createSharded(job: NewJob, shards: string[][]): Promise<JobRecord>;
  /** Take a queued shard, or one whose lease ran out, of a live job (SKIP LOCKED); null when none. */
  claimShard(worker: string, leaseMs: number): Promise<ClaimedShard | null>;
  /** Extend the shard's lease and its hosts' locks; false once it is no longer this worker's. */
  heartbeatShard(jid: string, shard: number, worker: string, leaseMs: number): Promise<boolean>;
  /** Give a claimed shard back (queued again, its locks freed) for another worker; false if not this worker's. */
  releaseShard(jid: string, shard: number, worker: string): Promise<boolean>;
  /** Mark the shard done and free its hosts' locks; the worker that completes the last shard ends the job in the
   * same transaction. */
  completeShard(jid: string, shard: number, worker: string, exitCode: number): Promise<ShardCompletion>;
}

/** Whether a store can hold sharded jobs. */
export function isShardStore(store: JobStore): store is JobStore & ShardStore {
  return typeof (store as Partial<ShardStore>).claimShard === 'function';
}

/** Lease given to a job created already running when the caller names none. */
export const DEFAULT_LEASE_MS = 60_000;
