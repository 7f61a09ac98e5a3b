// Turns the engine's check-only host results (plus PostgreSQL findings) into drift records, and decides a host's
// drift status and the run's exit code. Pure: no I/O.
import { EXIT } from '../errors/codes.js';
import { hostErrorStatus, type HostRunResult, type StateResult } from '../engine/result.js';
import type { DriftHostStatus, DriftItem, DriftReport, HostDrift, PgFinding } from './types.js';

function item(s: StateResult): DriftItem {
  const d: DriftItem = { id: s.id, fn: s.fn, name: s.name, comment: s.comment, file: s.file };
  if (s.diff) d.diff = s.diff;
  if (s.line !== undefined) d.line = s.line;
  if (s.diverged) d.diverged = s.diverged;
  return d;
}

/** A failed check that read the host and refused it for its place in the replication topology (a second primary,
 * a diverged timeline, another upstream): the host differs from its states, which is drift, not a failed check. */
const divergedFailure = (s: StateResult) => s.status === 'failed' && s.diverged !== undefined;

/** The drift record of one host from its check-only result; `pg` is undefined for hosts without postgres pillar. */
export function hostDrift(r: HostRunResult, pg?: PgFinding[]): HostDrift {
  const errors: HostDrift['errors'] = [];
  if (r.error) errors.push({ code: r.error.code, message: r.error.message });
  for (const s of r.states) {
    if ((s.status === 'failed' && !divergedFailure(s)) || s.status === 'not_run')
      errors.push({ state: s.id, message: s.comment });
  }
  const h: HostDrift = {
    host: r.host,
    status: 'clean',
    clean: r.states.filter((s) => s.status === 'clean').length,
    cleanStates: r.states.filter((s) => s.status === 'clean').map((s) => `${s.fn} ${s.id}`),
    // 'changed' never appears in a check-only run; counted as drift should an engine change ever report it.
    drifted: r.states
      .filter((s) => s.status === 'would_change' || s.status === 'changed' || divergedFailure(s))
      .map(item),
    unknown: r.states.filter((s) => s.status === 'unknown').map(item),
    errors,
    pg: pg ?? [],
    pgChecked: pg !== undefined,
    ms: r.ms,
  };
  h.status = driftStatus(h, r.error?.code);
  return h;
}

/**
 * A host's status from its run's error code (if any) and findings: not_run (given up on a signal or cancel), then
 * unreachable, error, drifted, unknown; clean only when all was verified.
 */
export function driftStatus(h: Omit<HostDrift, 'status'>, errorCode?: string): DriftHostStatus {
  const fromError = errorCode === undefined ? undefined : hostErrorStatus(errorCode);
  if (fromError === 'not_run' || fromError === 'unreachable') return fromError;
  // Drift has no timeout status: a run given up at --timeout is the transport failure it always was.
  if (fromError === 'timeout') return 'unreachable';
  if (h.errors.length > 0 || h.pg.some((f) => f.severity === 'error')) return 'error';
  if (h.drifted.length > 0 || h.pg.some((f) => f.severity === 'drift')) return 'drifted';
  if (h.unknown.length > 0) return 'unknown';
  return 'clean';
}

/** Number of drift items of a host: drifted states plus PostgreSQL drift findings. */
export function driftCount(h: HostDrift): number {
  return h.drifted.length + h.pg.filter((f) => f.severity === 'drift').length;
}

/**
 * Exit code of a drift run: 4 bad input (nothing checked); 3 when any host could not be checked (unreachable, not
 * run, or a check/compile error); else 2 when any host drifted or has unknown states; else 0.
 */
export function driftExitCode(report: Pick<DriftReport, 'aborted' | 'hosts'>): number {
  if (report.aborted) return EXIT.BAD_INPUT;
  const st = new Set(report.hosts.map((h) => h.status));
  if (st.has('unreachable') || st.has('error') || st.has('not_run')) return EXIT.UNREACHABLE;
  if (st.has('drifted') || st.has('unknown')) return EXIT.DRIFT;
  return EXIT.OK;
}

/** Hosts per status, for summaries. */
export function countByStatus(hosts: HostDrift[]): Record<DriftHostStatus, number> {
  const c: Record<DriftHostStatus, number> = {
    clean: 0,
    drifted: 0,
    unknown: 0,
    error: 0,
    unreachable: 0,
    not_run: 0,
  };
  for (const h of hosts) c[h.status]++;
  return c;
}
