// What sharded jobs mean independent of any store: how a job's hosts are cut into shards, which host records count
// as a final result (a handed-over shard runs only the others), and the one result of a job whose last shard is
// done. Pure functions over records; nothing here opens a store or runs hosts.
import { OrchError } from '../errors.js';
import { EXIT } from '../errors/codes.js';
import { runExitCode } from '../engine/exit.js';
import { isHostRunResult, summarize } from '../engine/result.js';
import { INTERRUPTED_HOST_STATUS, RUNNING_HOST_STATUS, type JobRecord, type JobStatus } from './store.js';

/** Most shards one job may have: each is a row claimed and leased on its own. */
export const MAX_SHARDS = 10_000;

/** Host statuses that say nothing was confirmed or the host was left alone: such a host runs again on handover. */
const NOT_FINAL = new Set([RUNNING_HOST_STATUS, INTERRUPTED_HOST_STATUS, 'not_run']);

/** Consecutive runs of size hosts, in target order (the last may be shorter); BAD_INPUT for a bad size. */
export function splitShards(hosts: string[], size: number): string[][] {
  if (!Number.isInteger(size) || size <= 0)
    throw new OrchError('BAD_INPUT', `shard size must be a positive integer, got ${size}`);
  const unique = [...new Set(hosts)];
  if (unique.length === 0) throw new OrchError('BAD_INPUT', 'a sharded job needs at least one host');
  const shards: string[][] = [];
  for (let i = 0; i < unique.length; i += size) shards.push(unique.slice(i, i + size));
  if (shards.length > MAX_SHARDS)
    throw new OrchError(
      'BAD_INPUT',
      `${unique.length} hosts in shards of ${size} make ${shards.length} shards (at most ${MAX_SHARDS}); use a larger --shard-size`,
    );
  return shards;
}

/** Whether the job holds a final result for host (one that a handover must not run again). */
export function hasFinalResult(job: JobRecord, host: string): boolean {
  const rec = job.hosts[host];
  return rec !== undefined && !NOT_FINAL.has(rec.status);
}

/** The end of a sharded job once every shard is done: status, exit code and summary from all its hosts' stored
 * results (apply results summed as one run would), the shards' own exit codes for anything else. */
export function shardedOutcome(
  job: JobRecord,
  shardExitCodes: number[],
): { status: JobStatus; exitCode: number; summary: Record<string, unknown> } {
  const planned = Array.isArray(job.args.hosts)
    ? job.args.hosts.filter((h): h is string => typeof h === 'string')
    : Object.keys(job.hosts);
  const missing = planned.filter((h) => !hasFinalResult(job, h));
  const results = Object.values(job.hosts)
    .map((h) => h.result)
    .filter(isHostRunResult);
  const summary: Record<string, unknown> = { shards: shardExitCodes.length };
  // A code no host result explains (bad input, a lock, the store): the worst one decides.
  const other = shardExitCodes.filter((c) => c !== EXIT.OK && c !== EXIT.FAILED && c !== EXIT.UNREACHABLE);
  let exitCode: number;
  if (job.verb === 'apply') {
    const mode = job.args.test === true ? 'test' : 'apply';
    Object.assign(summary, { mode, ...summarize(results) });
    exitCode = other.length ? Math.max(...other) : runExitCode({ mode, hosts: results });
  } else exitCode = Math.max(EXIT.OK, ...shardExitCodes);
  if (missing.length) {
    summary.missing = missing.length;
    if (exitCode === EXIT.OK) exitCode = EXIT.ERROR;
  }
  const status: JobStatus = job.cancelRequested ? 'cancelled' : exitCode === EXIT.OK ? 'succeeded' : 'failed';
  return { status, exitCode, summary };
}
