// The one result shape of a state and of a host run (like Salt's {id, result, changed, comment, changes}).
// This is the stable `--output json` schema documented in README.md.
import { hostErrorStatus, isTransportCode } from '../errors/codes.js';
import type { Diverged } from '../states/types.js';

// Kept here for the modules that sort host results by it; the table is src/errors/codes.ts.
export { hostErrorStatus, isTransportCode };

export type StateStatus = 'clean' | 'changed' | 'would_change' | 'unknown' | 'failed' | 'not_run';

export interface StateResult {
  id: string;
  /** 'file.managed' */
  fn: string;
  name: string;
  status: StateStatus;
  /** true ok, false failed, null in test mode when it would change or cannot be known. */
  result: boolean | null;
  changed: boolean;
  comment: string;
  diff?: string;
  file: string;
  line?: number;
  /** A check-only run's failed state whose check refused a node in another place of the replication topology than
   * the declared one (CheckOutcome.diverged): drift reports it as drift. */
  diverged?: Diverged;
}

export interface HostRunResult {
  host: string;
  /** false when the host could not be reached or compiled, or any state failed. */
  ok: boolean;
  /** Reaching or compiling the host failed: no state ran. */
  error?: { code: string; message: string };
  states: StateResult[];
  /** sftp: SFTP channels opened (file.managed sources sent by SFTP); absent when none. */
  stats: { connections: number; execs: number; sftp?: number };
  ms: number;
  /** The batch (1-based) of a rolling run the host was in. */
  batch?: number;
  /** Time spent in each phase, in order (connecting, facts, compiling, waiting, checking, applying). */
  phases?: { phase: string; ms: number }[];
}

export interface StateRunSummary {
  hosts: number;
  unreachable: number;
  failedHosts: number;
  states: Record<StateStatus, number>;
}

/** Count states by status and hosts by outcome. */
export function summarize(results: HostRunResult[]): StateRunSummary {
  const states: Record<StateStatus, number> = {
    clean: 0,
    changed: 0,
    would_change: 0,
    unknown: 0,
    failed: 0,
    not_run: 0,
  };
  let unreachable = 0;
  let failedHosts = 0;
  for (const h of results) {
    if (h.error && isTransportCode(h.error.code)) unreachable++;
    else if (!h.ok) failedHosts++;
    for (const s of h.states) states[s.status]++;
  }
  return { hosts: results.length, unreachable, failedHosts, states };
}

/** Whether a stored value (a job's host result, read back as JSON) has the shape of a HostRunResult. */
export function isHostRunResult(v: unknown): v is HostRunResult {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as HostRunResult).host === 'string' &&
    Array.isArray((v as HostRunResult).states)
  );
}
