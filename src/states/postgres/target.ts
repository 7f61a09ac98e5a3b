// Which PostgreSQL cluster a postgres.* state talks to: arguments shared by every module (version, cluster, port,
// socket_dir, os_user, db_user, maintenance_db) resolved against the host's facts on the controller. Reads nothing
// from the host.
import { z } from 'zod';
import { osPaths } from '../../facts/os/index.js';
import type { Facts, PostgresCluster } from '../../facts/types.js';
import { OrchError } from '../../errors.js';
import { hasControlChar } from '../../render/grammar.js';
import { absolutePath, OS_ACCOUNT_NAME } from '../common.js';

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

/** A database name to connect to (a plain name, never a connection string). */
export const connectDbName = z.string().superRefine((db, ctx) => {
  const problem = connstrProblem(db);
  if (problem) ctx.addIssue({ code: 'custom', message: `database name ${JSON.stringify(db)} ${problem}` });
});

/** A database role to connect as: no NUL or control characters, at most 63 bytes. */
const roleName = z
  .string()
  .min(1)
  .refine((r) => !hasControlChar(r), 'role names cannot contain NUL, newlines or control characters')
  .refine((r) => Buffer.byteLength(r, 'utf8') <= 63, 'role names are at most 63 bytes');

/** Zod fields every postgres.* function accepts to pick (or override) the target cluster. */
export const targetArgFields = {
  /** Major version, e.g. '15'; default: the first cluster in the facts. */
  version: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d+(\.\d+)?$/, 'version must look like 15 or 9.6'))
    .optional()
    .describe('PostgreSQL version of the cluster, e.g. 15 (default: the first cluster in the facts)'),
  /** Debian cluster name (main); 'data' elsewhere. */
  cluster: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'cluster names are letters, digits, _ . -')
    .optional()
    .describe('cluster name (Debian: main; elsewhere: data)'),
  port: z.number().int().min(1).max(65535).optional().describe("the server's port (default: from the facts)"),
  /** Directory of the server's unix socket. */
  socket_dir: absolutePath
    .optional()
    .describe("directory of the server's unix socket (default: from the facts)"),
  /** OS user psql runs as (peer authentication); default: the PostgreSQL user from the facts. */
  os_user: z
    .string()
    .regex(OS_ACCOUNT_NAME, 'not a valid unix user name')
    .optional()
    .describe('OS user psql runs as, by peer authentication (default: the PostgreSQL user from the facts)'),
  /** Database role to connect as; default: psql's default (the OS user's name). */
  db_user: roleName.optional().describe("database role to connect as (default: psql's, the OS user's name)"),
  /** Database the session connects to (a name; a connection string is refused). */
  maintenance_db: connectDbName
    .default('postgres')
    .describe('database the session connects to (a name; a connection string is refused)'),
};

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

/** The version as a number, for comparing (9.6 -> 9.6, 15 -> 15); undefined when unknown. */
export function versionNumber(t: PgTarget): number | undefined {
  return t.version === undefined ? undefined : Number(t.version);
}
