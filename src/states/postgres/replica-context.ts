// The values pg_make_replica.sh.njk is rendered with, built from plain inputs (the state's arguments plus the
// host's paths and service commands). Checks what the template cannot: numbers, absolute paths, argv lists.
// Pure: builds data only; it does not render and does not touch any host.
import { OrchError } from '../../errors.js';
import { OS_ACCOUNT_NAME } from '../common.js';
import { hostProblem, recoveryConf, roleProblem, slotProblem } from '../../pg/conninfo.js';
import { ORCH_PSQL_FUNCTION } from '../../pg/connector.js';
import { RUN_AS_FUNCTION } from '../../shell/actor.js';
import { posixCksum } from './cksum.js';

export const REPLICA_TEMPLATE = 'postgres/pg_make_replica.sh.njk';

/** A replay of a large copy can take long before the receiver starts: wait generously while it progresses. */
export const DEFAULT_STREAM_WAIT_SECONDS = 6 * 3600;
export const DEFAULT_STREAM_STALL_SECONDS = 300;

/** Where rebuilds record their steps: root's, persistent across reboots, never writable by the PostgreSQL user. */
export function defaultStateDir(freebsd: boolean): string {
  return freebsd ? '/var/db/orch/pg_make_replica' : '/var/lib/orch/pg_make_replica';
}

export interface ReplicaScriptInput {
  primaryHost: string;
  primaryPort: number;
  replicationUser: string;
  slot: string;
  /** PostgreSQL major version on this host, e.g. '15', '11', '9.6'. */
  version: string;
  dataDir: string;
  binDir: string;
  pgUser: string;
  pgGroup: string;
  /** argv of the service commands, e.g. ['systemctl', 'start', 'postgresql@15-main']. */
  serviceStart: string[];
  serviceStop: string[];
  serviceStatus: string[];
  pgpass: string;
  /** True only when this run's `orch apply --force-rebuild` names this host. */
  force: boolean;
  minFreeMb: number;
  /** Longest wait, in seconds, for a standby to stream (the wait goes on only while it makes progress). */
  streamWaitSeconds?: number;
  /** Longest time, in seconds, without progress during that wait. */
  streamStallSeconds?: number;
  /** FreeBSD userland (stat -f) instead of GNU (stat -c). */
  freebsd: boolean;
  /** Root's directory for the rebuild records (default: defaultStateDir). */
  stateDir?: string;
  /** After a successful build keep only this many copies beside the data directory (default: all). */
  keepOldCount?: number;
  /** After a successful build remove copies older than this many days (default: none). */
  keepOldDays?: number;
  /** pg_basebackup's --max-rate: kB/s as a number, or digits with a k or M suffix (default: no limit). */
  maxRate?: number | string;
}

/** pg_basebackup's own bounds for --max-rate, in kB/s (32 kB/s to 1024 MB/s). */
const MAX_RATE_KB = { min: 32, max: 1024 * 1024 } as const;

/**
 * A --max-rate value in the subset of pg_basebackup's grammar orch passes on (whole kB/s, or a k or M suffix), or
 * '' for none; refuses anything else, so the copy never fails on its option after the old data went aside.
 */
export function maxRateArg(rate: number | string | undefined): string {
  if (rate === undefined) return '';
  const m = /^([1-9][0-9]{0,9})([kM]?)$/.exec(String(rate));
  const kb = m ? Number(m[1]) * (m[2] === 'M' ? 1024 : 1) : NaN;
  if (!(kb >= MAX_RATE_KB.min && kb <= MAX_RATE_KB.max))
    throw new OrchError(
      'STATE_ERROR',
      `postgres.replica: max_rate must be kB/s as a whole number, or with a k or M suffix, from 32k to 1024M: ${String(rate)}`,
    );
  return m![1]! + m![2]!;
}

/** The major version as a number (9.6 -> 9, 15 -> 15); refuses what is not a version. */
export function majorVersion(version: string): number {
  const m = /^(\d+)(?:\.\d+)?$/.exec(version.trim());
  if (!m) throw new OrchError('STATE_ERROR', `postgres.replica: '${version}' is not a PostgreSQL version`);
  return Number(m[1]);
}

/** The template context for one host's pg_make_replica script. */
export function replicaTemplateContext(i: ReplicaScriptInput): Record<string, unknown> {
  const major = majorVersion(i.version);
  if (major < 10)
    throw new OrchError('STATE_ERROR', `postgres.replica supports PostgreSQL 10 and later, not ${i.version}`);
  const stateDir = i.stateDir ?? defaultStateDir(i.freebsd);
  for (const [what, p] of [
    ['state_dir', stateDir],
    ['data_dir', i.dataDir],
    ['bin_dir', i.binDir],
    ['pgpass', i.pgpass],
  ] as const) {
    if (!p.startsWith('/'))
      throw new OrchError('STATE_ERROR', `postgres.replica: ${what} must be an absolute path: ${p}`);
    if (/[\r\n]/.test(p))
      throw new OrchError('STATE_ERROR', `postgres.replica: ${what} contains a line break`);
  }
  // Each of these lands in a conninfo (host=, user=, application_name=), on a command line (-h, -U, --slot=,
  // chown user:group) and in SQL; check them against the strictest of those grammars.
  for (const [what, problem] of [
    ['primary', hostProblem(i.primaryHost)],
    ['replication_user', roleProblem(i.replicationUser)],
    ['slot', slotProblem(i.slot)],
    ['pg_user', OS_ACCOUNT_NAME.test(i.pgUser) ? undefined : 'is not a user name'],
    ['pg_group', OS_ACCOUNT_NAME.test(i.pgGroup) ? undefined : 'is not a group name'],
  ] as const) {
    if (problem) throw new OrchError('STATE_ERROR', `postgres.replica: ${what} ${problem}`);
  }
  if (!Number.isInteger(i.primaryPort) || i.primaryPort < 1 || i.primaryPort > 65535)
    throw new OrchError('STATE_ERROR', `postgres.replica: bad primary_port ${i.primaryPort}`);
  if (!Number.isInteger(i.minFreeMb) || i.minFreeMb < 0)
    throw new OrchError('STATE_ERROR', `postgres.replica: min_free_mb must be a whole number of MB`);
  const streamWait = i.streamWaitSeconds ?? DEFAULT_STREAM_WAIT_SECONDS;
  const streamStall = i.streamStallSeconds ?? DEFAULT_STREAM_STALL_SECONDS;
  for (const [what, n] of [
    ['stream_wait_seconds', streamWait],
    ['stream_stall_seconds', streamStall],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 7 * 86400)
      throw new OrchError(
        'STATE_ERROR',
        `postgres.replica: ${what} must be a whole number of seconds, 1 to 604800`,
      );
  }
  for (const [what, n] of [
    ['keep_old_count', i.keepOldCount],
    ['keep_old_days', i.keepOldDays],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > 100000))
      throw new OrchError('STATE_ERROR', `postgres.replica: ${what} must be a whole number, 0 to 100000`);
  }
  for (const [what, argv] of [
    ['start', i.serviceStart],
    ['stop', i.serviceStop],
    ['status', i.serviceStatus],
  ] as const) {
    if (argv.length === 0)
      throw new OrchError('STATE_ERROR', `postgres.replica: empty service ${what} command`);
  }
  const dataDir = i.dataDir.replace(/(.)\/+$/, '$1');
  return {
    // Shell functions written once in orch: the script switches users and calls psql only through them.
    run_as_function: RUN_AS_FUNCTION,
    psql_function: ORCH_PSQL_FUNCTION,
    primary_host: i.primaryHost,
    primary_port: i.primaryPort,
    replication_user: i.replicationUser,
    slot: i.slot,
    version: i.version,
    major,
    data_dir: dataDir,
    data_dir_cksum: String(posixCksum(dataDir)),
    bin_dir: i.binDir,
    pg_user: i.pgUser,
    pg_group: i.pgGroup,
    service_start: i.serviceStart,
    service_stop: i.serviceStop,
    service_status: i.serviceStatus,
    pgpass: i.pgpass,
    force: i.force,
    min_free_mb: i.minFreeMb,
    stream_wait_seconds: streamWait,
    stream_stall_seconds: streamStall,
    freebsd: i.freebsd,
    state_dir: stateDir.replace(/(.)\/+$/, '$1'),
    keep_old_count: i.keepOldCount === undefined ? '' : String(i.keepOldCount),
    keep_old_days: i.keepOldDays === undefined ? '' : String(i.keepOldDays),
    max_rate: maxRateArg(i.maxRate),
    // Only PostgreSQL <= 11 reads recovery.conf; 12+ gets standby.signal and primary_conninfo from pg_basebackup -R.
    recovery_conf:
      major <= 11
        ? recoveryConf({
            host: i.primaryHost,
            port: i.primaryPort,
            user: i.replicationUser,
            slot: i.slot,
            passfile: i.pgpass,
          })
        : '',
  };
}
