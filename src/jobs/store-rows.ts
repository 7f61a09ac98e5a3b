// What the two job stores share beyond input checks: a job row (once each driver has decoded its JSON and dates)
// turned into a JobRecord, the WHERE clauses of a list filter, and the insert that moves to the next job id when
// another process took this one. Each store keeps its own SQL for locking, claiming and reaping.
import type { JidGenerator } from './jid.js';
import { MAX_JID_RETRIES } from './common.js';
import type { HostResultRecord, JobFilter, JobRecord, JobStatus } from './store.js';

/** A job row in the stores' common terms: JSON parsed, instants as ISO strings, absent values null. */
export interface JobRowValues {
  jid: string;
  verb: string;
  target: string;
  args: Record<string, unknown> | null;
  user: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  worker: string | null;
  leaseUntil: string | null;
  exitCode: number | null;
  summary: Record<string, unknown> | null;
  cancelRequested: boolean;
}

/** The record of a row and its host results; absent values are left out rather than stored as null. */
export function jobRecordOf(r: JobRowValues, hosts: Record<string, HostResultRecord>): JobRecord {
  const rec: JobRecord = {
    jid: r.jid,
    verb: r.verb,
    target: r.target,
    args: r.args ?? {},
    user: r.user,
    status: r.status,
    createdAt: r.createdAt,
    hosts,
  };
  if (r.startedAt !== null) rec.startedAt = r.startedAt;
  if (r.finishedAt !== null) rec.finishedAt = r.finishedAt;
  if (r.worker !== null) rec.worker = r.worker;
  if (r.leaseUntil !== null) rec.leaseUntil = r.leaseUntil;
  if (r.exitCode !== null) rec.exitCode = r.exitCode;
  if (r.summary !== null) rec.summary = r.summary;
  if (r.cancelRequested) rec.cancelRequested = true;
  return rec;
}

/**
 * The WHERE clauses of a list filter over `jobs j`. `param` records a value and returns its placeholder (`?` or
 * `$n`), so no SQL is ever built from a value; `hostResults` is the host results table's name in that store.
 */
export function filterClauses(f: JobFilter, param: (v: unknown) => string, hostResults: string): string[] {
  const where: string[] = [];
  if (f.host !== undefined) {
    where.push(
      `(j.target = ${param(f.host)} OR EXISTS (SELECT 1 FROM ${hostResults} h WHERE h.jid = j.jid AND h.host = ${param(f.host)}))`,
    );
  }
  if (f.target !== undefined) where.push(`j.target = ${param(f.target)}`);
  if (f.verb !== undefined) where.push(`j.verb = ${param(f.verb)}`);
  if (f.status !== undefined) where.push(`j.status = ${param(f.status)}`);
  if (f.since !== undefined) where.push(`j.created_at >= ${param(f.since)}`);
  return where;
}

/** Insert a job under a fresh id, moving past ids another process took (isTaken says which errors mean that);
 * returns the id used. */
export async function insertUnderFreshJid(
  jids: JidGenerator,
  isTaken: (err: unknown) => boolean,
  insert: (jid: string) => unknown,
): Promise<string> {
  let jid = jids.next();
  for (let attempt = 0; ; attempt++) {
    try {
      await insert(jid);
      return jid;
    } catch (err) {
      if (!isTaken(err) || attempt >= MAX_JID_RETRIES) throw err;
      jids.observe(jid);
      jid = jids.next();
    }
  }
}
