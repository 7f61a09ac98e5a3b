// What `orch jobs list|lookup|wait` show: the job table, one job's per-host results in the same format as the
// synchronous command (formatRunReport for applies, the `orch run` blocks for runs, a kind's own view when it
// has one, e.g. drift's report), and job-id checks.
// Pure formatting and argument checks over stored records; it never opens a store or runs a job.
import { OrchError, type OrchErrorCode } from '../errors.js';
import { table } from '../text/table.js';
import { formatRunReport } from '../engine/report-text.js';
import { runHostText, runSummaryText, type RunSummary } from './run-output.js';
import { isHostRunResult } from '../engine/result.js';
import type { RunReport } from '../engine/run.js';
import type { HostSpec } from '../inventory/types.js';
import type { HostOutcome } from '../transport/fleet.js';
import type { ExecResult } from '../transport/types.js';
import { isJid } from './jid.js';
import { jobKind } from './kinds.js';
import { progressOf } from './record.js';
import { hasFinalResult } from './shards.js';
import type { StoredRunHost } from './run-verb.js';
import { FINAL_STATUSES, type JobRecord } from './store.js';

/** The job id as given, or BAD_INPUT (exit 4) saying what a job id looks like. */
export function checkJid(text: string): string {
  const jid = text.trim();
  if (!isJid(jid)) {
    throw new OrchError(
      'BAD_INPUT',
      `not a job id: ${JSON.stringify(text)} (a job id is 20 digits, YYYYMMDDhhmmss + microseconds, as printed by --async)`,
    );
  }
  return jid;
}

/** BAD_INPUT (exit 4) for an id the store does not know. */
export function unknownJob(jid: string): OrchError {
  return new OrchError('BAD_INPUT', `no job ${jid} in the job store (see orch jobs list)`);
}

export function isFinal(job: JobRecord): boolean {
  return FINAL_STATUSES.includes(job.status);
}

/** The verb as listed: `apply`, `apply -t` for test runs, `run`. */
export function verbLabel(job: JobRecord): string {
  return job.verb === 'apply' && job.args.test === true ? 'apply -t' : job.verb;
}

/** Host names in the order the job targeted them, then any others that have results. */
export function hostOrder(job: JobRecord): string[] {
  const planned = Array.isArray(job.args.hosts)
    ? job.args.hosts.filter((h): h is string => typeof h === 'string')
    : [];
  const extra = Object.keys(job.hosts)
    .filter((h) => !planned.includes(h))
    .sort();
  return [...planned, ...extra];
}

/** Hosts with a result (not only progress). */
function doneHosts(job: JobRecord): string[] {
  return Object.values(job.hosts)
    .filter((h) => !progressOf(h.status, h.result))
    .map((h) => h.host);
}

/** Lines for hosts still running (or, in a job that ended, left without a result): phase and last line. */
function progressLines(job: JobRecord): string[] {
  const lines: string[] = [];
  for (const h of hostOrder(job)) {
    const rec = job.hosts[h];
    const p = rec && progressOf(rec.status, rec.result);
    if (!p) continue;
    const what = `${p.phase}${p.line ? `: ${oneLine(p.line, 100)}` : ''}`;
    const when = p.at ? ` (at ${shortTime(p.at)})` : '';
    lines.push(isFinal(job) ? `  ${h}: no result; last seen ${what}${when}` : `  ${h}: ${what}${when}`);
  }
  return lines;
}

/** Short counts for the table: from the summary when finished, progress while running. */
export function countsText(job: JobRecord): string {
  const done = doneHosts(job).length;
  const planned = Array.isArray(job.args.hosts) ? job.args.hosts.length : undefined;
  if (!isFinal(job))
    return job.status === 'queued' ? '' : `${done}${planned !== undefined ? `/${planned}` : ''} hosts done`;
  const s = job.summary ?? {};
  if (typeof s.error === 'string') return `error: ${oneLine(s.error, 60)}`;
  const own = jobKind(job.verb)?.countsText?.(job);
  if (own !== undefined) return own;
  const hosts = typeof s.hosts === 'number' ? s.hosts : done;
  const bits: string[] = [];
  if (s.states && typeof s.states === 'object') {
    for (const [k, n] of Object.entries(s.states as Record<string, number>))
      if (n > 0) bits.push(`${n} ${k.replace('_', ' ')}`);
    if (typeof s.unreachable === 'number' && s.unreachable > 0) bits.push(`${s.unreachable} unreachable`);
  } else if (typeof s.ok === 'number') {
    const r = s as unknown as RunSummary;
    bits.push(`${r.ok} ok`);
    if (r.nonZero) bits.push(`${r.nonZero} non-zero`);
    if (r.failed) bits.push(`${r.failed} failed to run`);
  }
  return `${hosts} host(s)${bits.length ? `: ${bits.join(', ')}` : ''}`;
}

/** The STATUS column: the kind's word for a finished job when it has one (drift: clean, drifted), else the status. */
export function statusText(job: JobRecord): string {
  return (isFinal(job) ? jobKind(job.verb)?.statusLabel?.(job) : undefined) ?? job.status;
}

/** The `orch jobs list` table, newest first as given. */
export function jobsTable(jobs: JobRecord[], now: Date = new Date()): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = jobs.map((j) => [
    j.jid,
    verbLabel(j),
    oneLine(j.target, 30),
    j.user,
    j.startedAt ? shortTime(j.startedAt) : '-',
    duration(j, now),
    statusText(j),
    countsText(j),
  ]);
  return table([['JID', 'VERB', 'TARGET', 'USER', 'STARTED', 'DURATION', 'STATUS', 'COUNTS'], ...rows]);
}

/** Shards listed one per line in `orch jobs lookup` up to this many (all with -v); beyond, only claimed ones. */
const SHARD_LINES = 50;

/** The shard lines of a sharded job: counts by state, then each shard's state, worker and hosts done. */
export function shardLines(job: JobRecord, verbose = false): string[] {
  const shards = job.shards ?? [];
  if (shards.length === 0) return [];
  const count = (st: string): number => shards.filter((s) => s.state === st).length;
  const lines = [
    `  shards: ${shards.length} of up to ${job.shardSize ?? '?'} host(s): ` +
      `${count('done')} done, ${count('claimed')} claimed, ${count('queued')} queued`,
  ];
  const all = verbose || shards.length <= SHARD_LINES;
  for (const s of shards) {
    if (!all && s.state !== 'claimed') continue;
    const done = s.hosts.filter((h) => hasFinalResult(job, h)).length;
    const who = s.worker ? ` by ${s.worker}` : '';
    const bits = [
      ...(s.attempt > 1 ? [`attempt ${s.attempt}`] : []),
      ...(s.state === 'claimed' && s.leaseUntil ? [`lease until ${shortTime(s.leaseUntil)}`] : []),
    ];
    lines.push(
      `    shard ${s.shard + 1}: ${s.state}${who}${bits.length ? ` (${bits.join(', ')})` : ''}, ` +
        `${done}/${s.hosts.length} host(s) done`,
    );
  }
  if (!all)
    lines.push(`    (${shards.length - count('claimed')} shard(s) not claimed now not listed; -v lists all)`);
  return lines;
}

/** The header lines of `orch jobs lookup`: what the job is and where it stands. */
export function jobHeader(job: JobRecord, now: Date = new Date(), verbose = false): string {
  const lines = [`job ${job.jid}: ${verbLabel(job)} ${job.target}${commandText(job)} by ${job.user}`];
  const worker = job.worker ? ` on ${job.worker}` : '';
  switch (job.status) {
    case 'queued':
      lines.push(`  queued since ${shortTime(job.createdAt)}; no worker has claimed it yet`);
      break;
    case 'running': {
      const planned = Array.isArray(job.args.hosts) ? ` of ${job.args.hosts.length}` : '';
      lines.push(
        `  RUNNING${worker} since ${shortTime(job.startedAt ?? job.createdAt)} (${duration(job, now)}): ` +
          `${doneHosts(job).length}${planned} host(s) done so far; the results below are partial` +
          (job.cancelRequested ? '; cancel requested' : ''),
      );
      lines.push(...progressLines(job));
      break;
    }
    default:
      lines.push(
        `  ${statusText(job)}${job.exitCode !== undefined ? ` (exit ${job.exitCode})` : ''}${worker}, ` +
          `started ${job.startedAt ? shortTime(job.startedAt) : '-'}, took ${duration(job, now)}`,
      );
  }
  lines.push(...shardLines(job, verbose));
  if (isFinal(job)) lines.push(...progressLines(job));
  if (typeof job.summary?.error === 'string') lines.push(`  error: ${job.summary.error}`);
  return `${lines.join('\n')}\n`;
}

/** `orch jobs lookup` in the human format of the command that made the job. */
export function jobText(job: JobRecord, opts: { verbose?: boolean; now?: Date } = {}): string {
  const head = jobHeader(job, opts.now, opts.verbose);
  // Hosts with only progress are in the header; the body is results.
  const order = hostOrder(job).filter(
    (h) => job.hosts[h] && !progressOf(job.hosts[h].status, job.hosts[h].result),
  );
  const view: JobRecord = { ...job, hosts: Object.fromEntries(order.map((h) => [h, job.hosts[h]!])) };
  if (job.verb === 'run') {
    const blocks = order.map((h) => runHostText(asOutcome(job.hosts[h]!.result as StoredRunHost)));
    const summary =
      isFinal(job) && typeof job.summary?.ok === 'number'
        ? runSummaryText(job.summary as unknown as RunSummary)
        : '';
    return `${head}\n${blocks.join('')}${summary}`;
  }
  if (job.status === 'queued') return head;
  const own = jobKind(job.verb)?.lookupText?.(view, { verbose: opts.verbose });
  if (own !== undefined) return `${head}\n${own}`;
  const results = order.map((h) => job.hosts[h]!.result);
  if (!results.every(isHostRunResult)) {
    // A verb with its own result shape (e.g. drift records): show each host's status and stored result.
    const blocks = order.map(
      (h) => `${h}: ${job.hosts[h]!.status}\n${indent(JSON.stringify(job.hosts[h]!.result, null, 2))}\n`,
    );
    return `${head}\n${blocks.join('')}`;
  }
  const report: RunReport = {
    mode: job.verb === 'apply' && job.args.test !== true ? 'apply' : 'test',
    hosts: results,
  };
  const aborted = job.summary?.aborted as RunReport['aborted'] | undefined;
  if (aborted) report.aborted = aborted;
  return `${head}\n${formatRunReport(report, { verbose: opts.verbose })}\n`;
}

/** One line for `orch jobs wait` once the job ended. */
export function waitLine(job: JobRecord): string {
  return `job ${job.jid} ${job.status}${job.exitCode !== undefined ? ` (exit ${job.exitCode})` : ''}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function commandText(job: JobRecord): string {
  if (job.verb === 'run' && Array.isArray(job.args.command)) return ` -- ${job.args.command.join(' ')}`;
  if (Array.isArray(job.args.states) && job.args.states.length) return ` ${job.args.states.join(' ')}`;
  return '';
}

/** A stored run host turned back into the outcome shape runHostText prints. */
function asOutcome(h: StoredRunHost): HostOutcome<ExecResult> {
  const host: HostSpec = {
    name: h.host,
    address: h.host,
    port: 0,
    user: '',
    groups: [],
    vars: {},
    source: { file: 'job store' },
  };
  const stats = { connections: 0, execs: 0 };
  if (h.error) {
    return {
      host,
      ok: false,
      error: new OrchError(h.error.code as OrchErrorCode, h.error.message),
      stats,
      ms: h.ms,
    };
  }
  const value: ExecResult = { stdout: h.stdout, stderr: h.stderr, code: h.exitCode };
  if (h.signal) value.signal = h.signal;
  return { host, ok: true, value, stats, ms: h.ms };
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function duration(job: JobRecord, now: Date): string {
  if (!job.startedAt) return '-';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const s = Math.max(0, (end - Date.parse(job.startedAt)) / 1000);
  const text =
    s < 60
      ? `${s.toFixed(1)}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
        : `${(s / 3600).toFixed(1)}h`;
  return job.finishedAt ? text : `${text}+`;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
