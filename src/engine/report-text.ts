// Human output of a state run, in the spirit of Salt's highstate output: per host the states that changed,
// failed or could not be known (with diffs), then a summary line. Clean states are listed only with --verbose.
import type { HostRunResult, StateResult } from './result.js';
import { summarize } from './result.js';
import type { RunReport } from './run.js';

import { palette } from '../text/color.js';

// Decided when the module loads: the report goes to stdout (text/color.ts: TTY, NO_COLOR, FORCE_COLOR).
const { green, red, yellow, cyan } = palette(process.stdout);

const LABEL: Record<StateResult['status'], (s: string) => string> = {
  clean: green,
  changed: cyan,
  would_change: yellow,
  unknown: yellow,
  failed: red,
  not_run: red,
};

export interface ReportTextOptions {
  /** 1 (or true): clean states too; 2: also each phase of each host with its time. */
  verbose?: boolean | number;
  stats?: boolean;
  /** full: every state not clean with comment and diff; changes: only what changed, would change or failed;
   * terse: one line per state, no comments or diffs. */
  stateOutput?: StateOutput;
  /** Diffs longer than this many lines are cut there with a count; undefined: DIFF_LINES, Infinity: whole. */
  diffLines?: number;
}

export type StateOutput = 'full' | 'changes' | 'terse';
export const STATE_OUTPUTS: readonly StateOutput[] = ['full', 'changes', 'terse'];
/** Diff lines shown before the rest is folded (a whole pg_hba.conf diff is about 100). */
export const DIFF_LINES = 40;

const CHANGES: ReadonlySet<StateResult['status']> = new Set(['changed', 'would_change', 'failed']);

/** Render a run report for people. */
export function formatRunReport(report: RunReport, opts: ReportTextOptions = {}): string {
  const lines: string[] = [];
  if (report.aborted) {
    const { host, message, errors } = report.aborted;
    if (errors && errors.length > 1) {
      lines.push(red(`Aborted before any host was changed: ${host}: ${errors.length} errors:`));
      for (const e of errors) lines.push(red(`  ${e.message}`));
    } else lines.push(red(`Aborted before any host was changed: ${host}: ${message}`));
    const hints = [...new Set((errors ?? []).map((e) => e.hint).filter((h) => h !== undefined))];
    lines.push(...hints.map((h) => `hint: ${h}`), '');
  }
  for (const h of report.hosts) lines.push(...formatHost(h, opts), '');
  if (report.rollout) lines.push(formatRollout(report.rollout));
  lines.push(formatSummary(report));
  return lines.join('\n');
}

function formatHost(h: HostRunResult, opts: ReportTextOptions): string[] {
  const out: string[] = [];
  const head = h.error ? red(h.host) : h.ok ? green(h.host) : red(h.host);
  out.push(`${head}:${h.batch === undefined ? '' : ` (batch ${h.batch})`}`);
  if (h.error) {
    out.push(`  ${red(h.error.code)}: ${h.error.message}`);
  }
  const mode = opts.stateOutput ?? 'full';
  for (const s of h.states) {
    if (mode === 'changes' ? !CHANGES.has(s.status) : s.status === 'clean' && !opts.verbose) continue;
    const head = `  ${LABEL[s.status](s.status.toUpperCase().padEnd(12))} ${s.fn} ${s.id}${s.name !== s.id ? ` (${s.name})` : ''}`;
    if (mode === 'terse') {
      out.push(`${head}: ${s.comment.split('\n')[0]}`);
      continue;
    }
    out.push(head, `      ${s.comment.split('\n').join('\n      ')}`);
    if (s.diff) out.push(...foldDiff(s.diff, opts.diffLines ?? DIFF_LINES));
  }
  const counts = countStates(h.states);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  if (!h.error) out.push(`  ${parts.length ? parts.join(', ') : 'no states'} (${(h.ms / 1000).toFixed(1)}s)`);
  if (Number(opts.verbose ?? 0) >= 2 && h.phases?.length)
    out.push(`  phases: ${h.phases.map((p) => `${p.phase} ${formatMs(p.ms)}`).join(', ')}`);
  if (opts.stats)
    out.push(
      `  stats: ${h.stats.connections} connection(s), ${h.stats.execs} exec round trip(s)${h.stats.sftp ? `, ${h.stats.sftp} sftp channel(s)` : ''}`,
    );
  return out;
}

/** A diff's lines, indented and coloured; past `max` lines one line says how many were left out. */
function foldDiff(diff: string, max: number): string[] {
  const lines = diff.trimEnd().split('\n');
  const shown = lines.length > max ? lines.slice(0, max) : lines;
  const out = shown.map((l) => `      ${colorDiff(l)}`);
  if (shown.length < lines.length)
    out.push(`      ... ${lines.length - shown.length} more diff lines (--diff full shows them)`);
  return out;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(2)}s`;
}

function colorDiff(l: string): string {
  if (l.startsWith('+') && !l.startsWith('+++')) return green(l);
  if (l.startsWith('-') && !l.startsWith('---')) return red(l);
  return l;
}

function countStates(states: StateResult[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of states) c[s.status] = (c[s.status] ?? 0) + 1;
  return c;
}

function formatRollout(r: NonNullable<RunReport['rollout']>): string {
  const sizes = r.batches.map((b) => b.length).join('+');
  const head = `Rolling: ${r.batches.length} batch(es) (${sizes} hosts), ${r.ran} run`;
  return r.stopped ? red(`${head}; stopped: ${r.stopped}`) : head;
}

function formatSummary(report: RunReport): string {
  const s = summarize(report.hosts);
  const st = s.states;
  const bits = [
    `${s.hosts} host(s)`,
    s.unreachable ? red(`${s.unreachable} unreachable`) : '',
    `${st.clean} clean`,
    st.changed ? cyan(`${st.changed} changed`) : '',
    st.would_change ? yellow(`${st.would_change} would change`) : '',
    st.unknown ? yellow(`${st.unknown} unknown`) : '',
    st.failed ? red(`${st.failed} failed`) : '',
    st.not_run ? red(`${st.not_run} not run`) : '',
  ].filter(Boolean);
  return `Summary (${report.mode}): ${bits.join(', ')}`;
}
