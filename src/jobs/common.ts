// Helpers both job stores share: input checks, time arithmetic, the redaction net in front of every stored JSON
// value, and turning driver errors into JOB_STORE_ERROR. Nothing here holds state or opens a store.
import { OrchError, errorMessage } from '../errors.js';
import { redactor } from '../secrets/redactor.js';
import { FINAL_STATUSES, JOB_STATUSES, type JobFilter, type JobStatus, type NewJob } from './store.js';

/** Conflicts tolerated when creating a job before giving up (each retry moves the id one microsecond on). */
export const MAX_JID_RETRIES = 1000;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;

/** JSON text of a value after the redaction registry masked every secret it knows (second net after callers). */
export function storedJson(value: unknown): string {
  const text = JSON.stringify(redactor.redactDeep(value === undefined ? null : value));
  // JSON.stringify gives undefined for functions and symbols; store null rather than nothing.
  return text ?? 'null';
}

/** A plain string stored as-is, but still masked. */
export function storedText(value: string): string {
  return redactor.redact(value);
}

/** ISO-8601 instant ms milliseconds after now. */
export function plusMs(now: Date, ms: number): string {
  return new Date(now.getTime() + ms).toISOString();
}

export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new OrchError('BAD_INPUT', `lease must be a positive number of milliseconds, got ${leaseMs}`);
  }
}

export function checkNewJob(job: NewJob): void {
  if (job.status !== 'queued' && job.status !== 'running') {
    throw new OrchError('BAD_INPUT', `a new job is queued or running, not ${String(job.status)}`);
  }
  for (const key of ['verb', 'target', 'user'] as const) {
    if (typeof job[key] !== 'string' || job[key].length === 0) {
      throw new OrchError('BAD_INPUT', `a new job needs a non-empty ${key}`);
    }
  }
  // A running job without a worker name could never heartbeat and would be reaped when its first lease ends.
  if (job.status === 'running' && (typeof job.worker !== 'string' || job.worker.length === 0)) {
    throw new OrchError('BAD_INPUT', 'a job created running needs the worker that runs it');
  }
  if (job.leaseMs !== undefined) checkLeaseMs(job.leaseMs);
}

export function checkFinalStatus(status: JobStatus): void {
  if (!FINAL_STATUSES.includes(status)) {
    throw new OrchError('BAD_INPUT', `a job finishes as ${FINAL_STATUSES.join(', ')}; not ${String(status)}`);
  }
}

export function checkFilter(f: JobFilter): number {
  if (f.status !== undefined && !JOB_STATUSES.includes(f.status)) {
    throw new OrchError('BAD_INPUT', `unknown job status ${String(f.status)}`);
  }
  const limit = f.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0)
    throw new OrchError('BAD_INPUT', `limit must be a positive integer`);
  return Math.min(limit, MAX_LIST_LIMIT);
}

/** Distinct, sorted host names: a fixed lock order keeps two lockers from deadlocking each other. */
export function lockOrder(hosts: string[]): string[] {
  for (const h of hosts) {
    if (typeof h !== 'string' || h.length === 0)
      throw new OrchError('BAD_INPUT', 'host names to lock must be non-empty');
  }
  return [...new Set(hosts)].sort();
}

/** Run a store operation, reporting any driver failure as JOB_STORE_ERROR naming the store. */
export async function guarded<T>(where: string, what: string, op: () => T | Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof OrchError) throw err;
    throw new OrchError('JOB_STORE_ERROR', `job store ${where}: ${what} failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** Parse stored JSON text (SQLite keeps JSON as text). */
export function parseJson(text: string | null | undefined): unknown {
  return text === null || text === undefined ? undefined : JSON.parse(text);
}

/** The connection URL without its password, for messages. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
