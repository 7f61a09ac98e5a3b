// Shared by the pg_make_replica tests: render the template from this repository with a typical context.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { createRenderEnv, renderTemplate } from '../../../../src/render/env.js';
import {
  REPLICA_TEMPLATE,
  replicaTemplateContext,
  type ReplicaScriptInput,
} from '../../../../src/states/postgres/replica-context.js';
import { freePort, PG_BIN, startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A Debian-like PostgreSQL 15 input; override what a test is about. */
export function sampleInput(over: Partial<ReplicaScriptInput> = {}): ReplicaScriptInput {
  return {
    primaryHost: 'db1.example.com',
    primaryPort: 5432,
    replicationUser: 'replicator',
    slot: 'db2_slot',
    version: '15',
    dataDir: '/var/lib/postgresql/15/main',
    binDir: '/usr/lib/postgresql/15/bin',
    pgUser: 'postgres',
    pgGroup: 'postgres',
    serviceStart: ['systemctl', 'start', 'postgresql@15-main'],
    serviceStop: ['systemctl', 'stop', 'postgresql@15-main'],
    serviceStatus: ['systemctl', 'status', 'postgresql@15-main'],
    pgpass: '/var/lib/postgresql/.pgpass',
    force: false,
    minFreeMb: 100,
    freebsd: false,
    ...over,
  };
}

/** Render pg_make_replica for an input. */
export function renderReplicaScript(input: ReplicaScriptInput): string {
  const env = createRenderEnv(repoRoot);
  return renderTemplate(env, REPLICA_TEMPLATE, replicaTemplateContext(input), {
    file: `templates/${REPLICA_TEMPLATE}`,
    host: 'db2.example.com',
  });
}

/** The postgres OS user's uid and gid. */
export function pgOwner(): { uid: number; gid: number } {
  const f = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))!
    .split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Run a command as the postgres OS user. */
export function asPg(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** argv of pg_ctl on a data directory, run as postgres. */
export function pgCtl(dataDir: string, ...rest: string[]): string[] {
  return ['runuser', '-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, ...rest];
}

/** Run a query and return its rows. */
export async function query(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

export const REPL_PASSWORD = "s3cr:et'\\pw";

/** A temp primary with a scram-authenticated `replicator` role, a table t, and a .pgpass (0600, postgres) for it. */
export async function startReplicationPrimary(): Promise<{ primary: TempPostgres; pgpass: string }> {
  const primary = await startTempPostgres({
    conf: [
      'wal_level = replica',
      'max_wal_senders = 5',
      'max_replication_slots = 5',
      "password_encryption = 'scram-sha-256'",
    ],
    hbaFirst: [
      'host replication replicator 127.0.0.1/32 scram-sha-256',
      'host postgres replicator 127.0.0.1/32 scram-sha-256',
    ],
  });
  await query(
    primary.url(),
    `CREATE ROLE replicator LOGIN REPLICATION PASSWORD '${REPL_PASSWORD.replace(/'/g, "''")}'`,
  );
  await query(primary.url(), 'CREATE TABLE t (v text)');
  const { uid, gid } = pgOwner();
  const dir = path.join(primary.dir, 'pass dir');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, uid, gid);
  const pgpass = path.join(dir, 'pgpass');
  writeFileSync(
    pgpass,
    `127.0.0.1:${primary.port}:*:replicator:${REPL_PASSWORD.replace(/[\\:]/g, '\\$&')}\n`,
    { mode: 0o600 },
  );
  chownSync(pgpass, uid, gid);
  return { primary, pgpass };
}

/** initdb a cluster that is never started (Debian's package would start it: see the booted suites), on a free port. */
export async function neverStartedCluster(dataDir: string, socketDir: string): Promise<number> {
  const { uid, gid } = pgOwner();
  mkdirSync(dataDir, { mode: 0o700 });
  chownSync(dataDir, uid, gid);
  const init = asPg([
    path.join(PG_BIN, 'initdb'),
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
  ]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.out}`);
  const port = await freePort();
  appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${socketDir}'\nfsync = off\n`,
  );
  return port;
}

/** Stop a server on a data directory if one runs there (test cleanup). */
export function stopIfRunning(dataDir: string): void {
  if (existsSync(path.join(dataDir, 'postmaster.pid')))
    asPg(pgCtl(dataDir, '-m', 'immediate', '-w', 'stop').slice(4));
}
