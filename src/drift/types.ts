// The drift report: what a check-only run found per host. This is the stable `orch drift -o json` schema (and what
// each drift job stores per host). It holds results only; it never talks to hosts or the job store.

/** Per host: clean (every state verified), drifted, unknown (some state could not tell), error (a check failed
 * or the states did not compile), unreachable (never checked), not_run (given up on a signal or cancel before its
 * checks ended, as apply records it). Never "clean" unless everything was verified. */
export type DriftHostStatus = 'clean' | 'drifted' | 'unknown' | 'error' | 'unreachable' | 'not_run';

/** A state whose check says the host differs from what the states declare (or could not tell). */
export interface DriftItem {
  id: string;
  fn: string;
  name: string;
  comment: string;
  diff?: string;
  file: string;
  line?: number;
  /** Set when the state's check refused the node for its place in the replication topology: what differs. */
  diverged?: 'role' | 'timeline' | 'upstream';
}

/** Something that kept a host or a state from being checked. */
export interface DriftError {
  /** The state id, when one state's check failed; absent for host-level errors. */
  state?: string;
  code?: string;
  message: string;
}

/** A PostgreSQL finding beyond files: drift (the cluster is not as it should be), error (could not be read), or
 * warning (a risk orch cannot converge away, such as slot WAL retention that PostgreSQL 12 cannot bound; it does
 * not make the host drifted). */
export interface PgFinding {
  check:
    | 'server'
    | 'role'
    | 'upstream'
    | 'slot'
    | 'streaming'
    | 'lag'
    | 'replica_lag'
    | 'pending_restart'
    | 'query';
  severity: 'drift' | 'error' | 'warning';
  /** What the finding is about: a slot, a setting, a standby name. */
  subject?: string;
  message: string;
}

export interface HostDrift {
  host: string;
  status: DriftHostStatus;
  /** Number of states verified clean. */
  clean: number;
  /** Those states, as `fn id` (JUnit lists them as passing testcases). */
  cleanStates: string[];
  drifted: DriftItem[];
  unknown: DriftItem[];
  errors: DriftError[];
  /** PostgreSQL findings; empty when the host has no postgres pillar or all is well. */
  pg: PgFinding[];
  /** Whether PostgreSQL was checked on this host (it has `pillar.postgres`). */
  pgChecked: boolean;
  ms: number;
}

export interface DriftReport {
  /** The job this run was recorded as (null when not recorded). */
  jid: string | null;
  target: string;
  startedAt: string;
  finishedAt: string;
  /** Set when some host's states failed to compile: nothing was checked anywhere (exit 4). */
  aborted?: { host: string; code: string; message: string };
  hosts: HostDrift[];
}
