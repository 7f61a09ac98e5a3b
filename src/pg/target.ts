// Which PostgreSQL cluster orch talks to on a host: explicit choices (a state's arguments, drift's pillar) resolved
// against the host's facts on the controller, then per-OS defaults. Reads nothing from the host.
import { OS_ACCOUNT_NAME, osPaths } from '../facts/os/index.js';
import type { Facts, PostgresCluster } from '../facts/types.js';
import { OrchError } from '../errors.js';
import { hasControlChar } from '../render/grammar.js';

/**
 * libpq reads a database name that contains `=` or starts with postgres:// or postgresql:// as a whole
 * connection string (host, user, sslmode... of the caller's choosing). Such names, and anything with NUL or a
 * control character, are refused; `[\s\S]` so a leading newline cannot hide the `=`.
 */
export function connstrProblem(db: string): string | undefined {
  if (db.length === 0) return 'is empty';
  if (hasControlChar(db)) return 'contains NUL, a newline or another control character';
  if (/^postgres(ql)?:/i.test(db) || db.includes('=')) return 'would be read by libpq as a connection string';
  return undefined;
}

export interface PgTargetArgs {
  version?: string;
  cluster?: string;
  port?: number;
  socket_dir?: string;
  os_user?: string;
  db_user?: string;
  maintenance_db: string;
}

/** A resolved cluster: where psql connects and as whom, plus the cluster's directories when known. */
export interface PgTarget {
  version?: string;
  cluster?: string;
  port: number;
  socketDir: string;
  osUser: string;
  dbUser?: string;
  db: string;
  /** Directory holding psql for that version; psql from PATH is the fallback on the host. */
  binDir?: string;
  confDir?: string;
  dataDir?: string;
}

function pickCluster(facts: Facts, version?: string, cluster?: string): PostgresCluster | undefined {
  const all = facts.postgres.clusters;
  return all.find((c) => (!version || c.version === version) && (!cluster || c.name === cluster));
}

/** Resolve the target cluster from explicit arguments first, then the facts, then per-OS defaults. */
export function resolveTarget(a: PgTargetArgs, facts: Facts): PgTarget {
  const found = pickCluster(facts, a.version, a.cluster);
  const version = a.version ?? found?.version ?? facts.postgres.versions[0];
  const cluster = a.cluster ?? found?.name;
  const paths = version ? osPaths(facts).postgresPaths(version, cluster) : undefined;
  const t: PgTarget = {
    port: a.port ?? found?.port ?? 5432,
    socketDir: a.socket_dir ?? paths?.socketDir ?? facts.postgres.socketDir,
    osUser: a.os_user ?? paths?.pgUser ?? facts.postgresUser ?? 'postgres',
    db: a.maintenance_db,
  };
  // The default comes from the host's facts: a host must not be able to hand psql an option-like user.
  if (!OS_ACCOUNT_NAME.test(t.osUser)) {
    throw new OrchError(
      'STATE_ERROR',
      `the PostgreSQL OS user ${JSON.stringify(t.osUser)} is not a valid user name`,
    );
  }
  if (version) t.version = version;
  if (cluster) t.cluster = cluster;
  if (a.db_user) t.dbUser = a.db_user;
  if (paths) {
    t.binDir = paths.binDir;
    t.confDir = found?.confDir ?? paths.confDir;
    t.dataDir = found?.dataDir ?? paths.dataDir;
  }
  return t;
}

/** Major version as a number (9.6 -> 9.6, 15 -> 15); undefined when unknown. */
export function versionNumber(t: PgTarget): number | undefined {
  return t.version === undefined ? undefined : Number(t.version);
}
