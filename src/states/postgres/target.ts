// The arguments every postgres.* state accepts to pick its cluster (version, cluster, port, socket_dir, os_user,
// db_user, maintenance_db), as zod fields. Resolving them against the facts is the connector's (src/pg/target.ts).
import { z } from 'zod';
import { connstrProblem } from '../../pg/target.js';
import { hasControlChar } from '../../render/grammar.js';
import { absolutePath, OS_ACCOUNT_NAME } from '../common.js';

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
