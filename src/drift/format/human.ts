// Drift report for people: one line per host (clean / drifted (N states) / unknown / error / unreachable / not
// checked), then the details of every host that is not clean, with diffs. Text only; the status words coloured as
// text/color.ts says.
import { countByStatus, driftCount } from '../build.js';
import type { DriftItem, DriftReport, HostDrift } from '../types.js';
import { palette } from '../../text/color.js';

/** One status line for a host. */
export function hostLine(h: HostDrift): string {
  const parts: string[] = [];
  switch (h.status) {
    case 'unreachable':
      return `unreachable: ${h.errors[0]?.message ?? 'could not connect'}`;
    case 'not_run':
      return `not checked: ${h.errors[0]?.message ?? 'stopped before its checks ended'}`;
    case 'clean': {
      const w = h.pg.filter((f) => f.severity === 'warning').length;
      const pg = h.pgChecked ? `, postgres ok${w ? `, ${w} warning(s)` : ''}` : '';
      return `clean (${h.clean} state${h.clean === 1 ? '' : 's'}${pg})`;
    }
    default:
      if (h.errors.length || h.pg.some((f) => f.severity === 'error')) {
        parts.push(`error (${h.errors.length + h.pg.filter((f) => f.severity === 'error').length})`);
      }
      if (h.drifted.length)
        parts.push(`drifted (${h.drifted.length} state${h.drifted.length === 1 ? '' : 's'})`);
      if (h.pg.some((f) => f.severity === 'drift')) {
        parts.push(`postgres drift (${h.pg.filter((f) => f.severity === 'drift').length})`);
      }
      if (h.unknown.length)
        parts.push(`unknown (${h.unknown.length} state${h.unknown.length === 1 ? '' : 's'})`);
      return parts.join(', ');
  }
}

/** What a diverged node means to the person reading the table (apply refuses it; these verbs resolve it). */
const DIVERGED_LINE: Record<NonNullable<DriftItem['diverged']>, string> = {
  role: 'split brain: a primary (or a former one) where the topology has a standby; apply refuses it: orch pg rejoin, or --force-rebuild',
  timeline:
    'diverged timeline: it has WAL the primary lacks; apply refuses it: orch pg rejoin, or --force-rebuild',
  upstream:
    'wrong upstream: it streams from another node than the recorded primary; apply refuses it: orch pg follow',
};

const indent = (text: string, pad: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `${pad}${l}`);

/** The whole report. */
export function formatDriftHuman(report: DriftReport, toStdout = false): string {
  const lines: string[] = [];
  if (report.aborted) {
    lines.push(`Aborted before any host was checked: ${report.aborted.host}: ${report.aborted.message}`, '');
  }
  const width = Math.max(0, ...report.hosts.map((h) => h.host.length));
  // A report file never gets colour codes, whatever the terminal.
  const c0 = palette(toStdout ? process.stdout : {}, toStdout ? process.env : {});
  const paint = (h: HostDrift) =>
    h.status === 'clean' ? c0.green : h.status === 'unreachable' || h.errors.length ? c0.red : c0.yellow;
  for (const h of report.hosts) lines.push(`${h.host.padEnd(width)}  ${paint(h)(hostLine(h))}`);
  for (const h of report.hosts) {
    if ((h.status === 'clean' && h.pg.length === 0) || h.status === 'unreachable' || h.status === 'not_run')
      continue;
    lines.push('', `${h.host}:`);
    for (const e of h.errors)
      lines.push(`  ERROR        ${e.state ? `${e.state}: ` : e.code ? `${e.code}: ` : ''}${e.message}`);
    for (const d of h.drifted) {
      lines.push(
        `  DRIFTED      ${d.fn} ${d.id}${d.name !== d.id ? ` (${d.name})` : ''}  [${d.file}${d.line ? `:${d.line}` : ''}]`,
      );
      if (d.comment) lines.push(...indent(d.comment, '      '));
      if (d.diverged) lines.push(`      ${DIVERGED_LINE[d.diverged]}`);
      if (d.diff) lines.push(...indent(d.diff, '      '));
    }
    for (const f of h.pg)
      lines.push(
        `  ${f.severity === 'error' ? 'ERROR   ' : f.severity === 'warning' ? 'WARNING ' : 'DRIFTED '}     postgres ${f.check}: ${f.message}`,
      );
    for (const u of h.unknown) {
      lines.push(`  UNKNOWN      ${u.fn} ${u.id}`);
      if (u.comment) lines.push(...indent(u.comment, '      '));
    }
  }
  const c = countByStatus(report.hosts);
  const items = report.hosts.reduce((n, h) => n + driftCount(h), 0);
  const bits = [`${report.hosts.length} host(s)`, `${c.clean} clean`];
  if (c.drifted) bits.push(`${c.drifted} drifted (${items} item${items === 1 ? '' : 's'})`);
  if (c.unknown) bits.push(`${c.unknown} unknown`);
  if (c.error) bits.push(`${c.error} error`);
  if (c.unreachable) bits.push(`${c.unreachable} unreachable`);
  lines.push('', `Drift${report.jid ? ` ${report.jid}` : ''}: ${bits.join(', ')}`);
  return lines.join('\n');
}
