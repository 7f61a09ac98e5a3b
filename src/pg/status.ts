// `orch pg status`: the replication picture of many hosts (role, upstream, state, lag, slots, timeline), its
// warnings and exit code. Collection is one read-only exec per host; analysis and formatting are pure.
import { OrchError } from '../errors.js';
import { table as textTable } from '../text/table.js';
import type { HostOutcome } from '../transport/fleet.js';
import type { Connection } from '../transport/types.js';
import { parseStatusOutput, type HostStatus, type ServerStatus } from './status-parse.js';
import { pgStatusScript, type StatusScriptOptions } from './status-script.js';

export type { HostStatus, ServerStatus } from './status-parse.js';

/** Exit codes of `orch pg status`. */
export const STATUS_EXIT = { OK: 0, WARNING: 1, UNREACHABLE: 3 } as const;

/** Run the status script on one host (one exec) and parse it. */
export async function collectPgStatus(
  conn: Connection,
  opts: StatusScriptOptions & { timeoutMs?: number } = {},
): Promise<HostStatus> {
  const res = await conn.runScript(pgStatusScript(opts), { timeoutMs: opts.timeoutMs ?? 30_000 });
  if (!res.stdout.includes('@@begin')) {
    throw new OrchError(
      'COMMAND_FAILED',
      `${conn.host.name}: status script produced no output: ${res.stderr.trim().slice(0, 300)}`,
    );
  }
  return parseStatusOutput(res.stdout);
}

export interface StatusRow {
  host: string;
  port: number | null;
  role: string;
  upstream: string;
  state: string;
  lagBytes: number | null;
  lagSeconds: number | null;
  timeline: number | null;
}

export interface StatusReport {
  rows: StatusRow[];
  replication: Array<{ primary: string } & ServerStatus['replication'][number]>;
  slots: Array<{ primary: string } & ServerStatus['slots'][number]>;
  warnings: string[];
  unreachable: string[];
  exitCode: number;
}

/** What the recorded topology (docs/LIFECYCLE.md) expects of a host: its role, and a standby's accepted upstreams
 * (the recorded primary's name and address). */
export interface ExpectedNode {
  role: 'primary' | 'standby';
  upstreams: string[];
}

/** Build rows, warnings and the exit code from every host's outcome (and the recorded topology, when given). */
export function analyzeStatus(
  outcomes: ReadonlyArray<HostOutcome<HostStatus>>,
  expected: ReadonlyMap<string, ExpectedNode> = new Map(),
): StatusReport {
  const report: StatusReport = {
    rows: [],
    replication: [],
    slots: [],
    warnings: [],
    unreachable: [],
    exitCode: 0,
  };
  for (const o of outcomes) {
    const host = o.host.name;
    if (!o.ok) {
      report.unreachable.push(`${host}: ${o.error.message}`);
      report.rows.push({
        host,
        port: null,
        role: '?',
        upstream: '',
        state: 'unreachable',
        lagBytes: null,
        lagSeconds: null,
        timeline: null,
      });
      continue;
    }
    const st = o.value;
    if (st.error) report.warnings.push(`${host}: ${st.error}`);
    if (!st.complete) report.warnings.push(`${host}: status output was cut short`);
    if (st.servers.length === 0 && !st.error) report.warnings.push(`${host}: no running PostgreSQL found`);
    const multi = st.servers.length > 1;
    for (const s of st.servers) {
      const name = multi ? `${host}:${s.port}` : host;
      if (s.error || !s.role) {
        report.warnings.push(`${name}: ${s.error ?? 'no answer'}`);
        report.rows.push({
          host,
          port: s.port,
          role: '?',
          upstream: '',
          state: 'error',
          lagBytes: null,
          lagSeconds: null,
          timeline: null,
        });
        continue;
      }
      if (s.role === 'standby') {
        const r = s.receiver;
        const upstream = r ? `${r.host}${r.port ? `:${r.port}` : ''}` : '';
        const state = r?.status ?? 'not connected';
        if (state !== 'streaming') report.warnings.push(`${name}: standby is not streaming (${state})`);
        const want = expected.get(host);
        if (want?.role === 'standby' && r && !want.upstreams.includes(r.host))
          report.warnings.push(
            `${name}: standby streams from ${r.host}, not from the recorded primary ${want.upstreams[0]}`,
          );
        report.rows.push({
          host,
          port: s.port,
          role: 'standby',
          upstream,
          state,
          lagBytes: s.lagBytes ?? null,
          lagSeconds: s.lagSeconds ?? null,
          timeline: s.timeline ?? null,
        });
      } else {
        if (expected.get(host)?.role === 'standby')
          report.warnings.push(
            `${name}: out of recovery, but the recorded topology has it as a standby of ${expected.get(host)!.upstreams[0]}`,
          );
        report.rows.push({
          host,
          port: s.port,
          role: 'primary',
          upstream: '',
          state: 'running',
          lagBytes: null,
          lagSeconds: null,
          timeline: s.timeline ?? null,
        });
        for (const r of s.replication) {
          report.replication.push({ primary: name, ...r });
          if (r.state !== 'streaming')
            report.warnings.push(
              `${name}: standby ${r.application || r.clientAddr} is ${r.state || 'not streaming'}`,
            );
        }
        for (const sl of s.slots) {
          report.slots.push({ primary: name, ...sl });
          if (!sl.active) {
            const kept = sl.retainedBytes === null ? '' : ` (keeps ${formatBytes(sl.retainedBytes)} of WAL)`;
            report.warnings.push(`${name}: slot ${sl.name} is inactive${kept}`);
          }
          if (sl.walStatus === 'lost' || sl.walStatus === 'unreserved')
            report.warnings.push(`${name}: slot ${sl.name} wal_status is ${sl.walStatus}`);
        }
      }
    }
  }
  const primaries = report.rows.filter((r) => r.role === 'primary').map((r) => r.host);
  if (primaries.length > 1)
    report.warnings.push(
      `${primaries.length} servers are out of recovery (${primaries.join(', ')}): split brain unless they are separate clusters`,
    );
  report.warnings.push(...timelineWarnings(report.rows, expected));
  report.exitCode = report.unreachable.length
    ? STATUS_EXIT.UNREACHABLE
    : report.warnings.length
      ? STATUS_EXIT.WARNING
      : STATUS_EXIT.OK;
  return report;
}

/** Standbys on a newer timeline than the primary (the recorded one, else the only one): they follow a node promoted
 * elsewhere, and their history has left the primary's. A standby's checkpoint timeline can lag, never lead. */
function timelineWarnings(rows: StatusRow[], expected: ReadonlyMap<string, ExpectedNode>): string[] {
  const primaries = rows.filter((r) => r.role === 'primary');
  const recorded = primaries.find((r) => expected.get(r.host)?.role === 'primary');
  const primary = recorded ?? (primaries.length === 1 ? primaries[0] : undefined);
  if (!primary || primary.timeline === null) return [];
  return rows
    .filter((r) => r.role === 'standby' && r.timeline !== null && r.timeline > primary.timeline!)
    .map(
      (r) =>
        `${r.host}: standby on timeline ${r.timeline}, newer than the primary ${primary.host}'s timeline ${primary.timeline}: diverged (orch pg rejoin, or rebuild it)`,
    );
}

/** Bytes as B/kB/MB/GB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

const cell = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined ? '' : String(v);
const seconds = (v: number | null): string => (v === null ? '' : `${Math.round(v * 10) / 10}s`);

/** orch's one table (text/table.ts), header in capitals; without the final newline, as the parts are joined. */
function table(header: string[], rows: string[][]): string {
  return textTable([header.map((h) => h.toUpperCase()), ...rows]).trimEnd();
}

/** The human text of `orch pg status`. */
export function formatStatus(r: StatusReport): string {
  const parts = [
    table(
      ['Host', 'Port', 'Role', 'Upstream', 'State', 'Lag', 'Lag (s)', 'TL'],
      r.rows.map((x) => [
        x.host,
        cell(x.port),
        x.role,
        x.upstream,
        x.state,
        x.lagBytes === null ? '' : formatBytes(x.lagBytes),
        seconds(x.lagSeconds),
        cell(x.timeline),
      ]),
    ),
  ];
  if (r.replication.length) {
    parts.push(
      `Replication (seen from the primary)\n${table(
        ['Primary', 'Standby', 'Client', 'State', 'Sync', 'Replay lag', 'Write', 'Flush', 'Replay'],
        r.replication.map((x) => [
          x.primary,
          x.application,
          x.clientAddr,
          x.state,
          x.syncState,
          x.replayLagBytes === null ? '' : formatBytes(x.replayLagBytes),
          seconds(x.writeLagS),
          seconds(x.flushLagS),
          seconds(x.replayLagS),
        ]),
      )}`,
    );
  }
  if (r.slots.length) {
    parts.push(
      `Slots\n${table(
        ['Primary', 'Slot', 'Type', 'Active', 'WAL status', 'Retained'],
        r.slots.map((x) => [
          x.primary,
          x.name,
          x.type,
          x.active ? 'yes' : 'NO',
          x.walStatus,
          x.retainedBytes === null ? '' : formatBytes(x.retainedBytes),
        ]),
      )}`,
    );
  }
  const notes = [...r.unreachable.map((u) => `unreachable: ${u}`), ...r.warnings.map((w) => `warning: ${w}`)];
  if (notes.length) parts.push(notes.join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/** The JSON shape of `orch pg status -o json`. */
export function statusJson(r: StatusReport): unknown {
  return {
    nodes: r.rows,
    replication: r.replication,
    slots: r.slots,
    warnings: r.warnings,
    unreachable: r.unreachable,
    exit_code: r.exitCode,
  };
}
