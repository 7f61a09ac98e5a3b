// Schema of the PostgreSQL job store: everything lives in the SQL schema `orch`, versioned in orch.schema_version.
// Migrations run in one transaction under an advisory lock, so several controllers starting at once migrate once.
// It creates and alters only objects inside `orch`; identifiers are fixed here, never built from input.
import type { PoolClient } from 'pg';
import { OrchError } from '../errors.js';

/** Advisory lock keys (arbitrary constants, "orch" in ASCII, then a suffix per purpose). */
export const MIGRATE_LOCK_KEY = '1869767528001';
export const REAP_LOCK_KEY = '1869767528002';

/** Migration i brings the schema from version i to i + 1. Never edit a shipped one; append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orch.jobs (
     jid text PRIMARY KEY CHECK (jid ~ '^[0-9]{20}$'),
     verb text NOT NULL,
     target text NOT NULL,
     args jsonb NOT NULL,
     username text NOT NULL,
     status text NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
     created_at timestamptz NOT NULL,
     started_at timestamptz,
     finished_at timestamptz,
     worker text,
     lease_until timestamptz,
     exit_code integer,
     summary jsonb,
     cancel_requested boolean NOT NULL DEFAULT false
   );
   CREATE INDEX jobs_status_jid ON orch.jobs (status, jid);
   CREATE INDEX jobs_target ON orch.jobs (target);
   CREATE TABLE orch.host_results (
     jid text NOT NULL REFERENCES orch.jobs (jid) ON DELETE CASCADE,
     host text NOT NULL,
     status text NOT NULL,
     result jsonb NOT NULL,
     updated_at timestamptz NOT NULL,
     PRIMARY KEY (jid, host)
   );
   CREATE INDEX host_results_host ON orch.host_results (host);
   CREATE TABLE orch.host_locks (
     host text PRIMARY KEY,
     jid text NOT NULL REFERENCES orch.jobs (jid) ON DELETE CASCADE,
     lease_until timestamptz NOT NULL
   );
   CREATE INDEX host_locks_jid ON orch.host_locks (jid);`,
  // The recorded topology of each replication cluster (docs/LIFECYCLE.md); epoch guards concurrent verbs.
  `CREATE TABLE orch.topology (
     cluster text PRIMARY KEY,
     epoch integer NOT NULL,
     record jsonb NOT NULL,
     updated_at timestamptz NOT NULL
   );`,
  // Sharded jobs: one job's hosts cut into shards that many workers claim (FOR UPDATE SKIP LOCKED), each under
  // its own lease. shard_size marks such a job, so that claimNext never hands the whole job to one worker.
  `ALTER TABLE orch.jobs ADD COLUMN shard_size integer CHECK (shard_size > 0);
   CREATE TABLE orch.job_shards (
     jid text NOT NULL REFERENCES orch.jobs (jid) ON DELETE CASCADE,
     shard integer NOT NULL CHECK (shard >= 0),
     state text NOT NULL CHECK (state IN ('queued','claimed','done')),
     claimed_by text,
     lease_until timestamptz,
     attempt integer NOT NULL DEFAULT 0,
     exit_code integer,
     PRIMARY KEY (jid, shard),
     CHECK (state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL))
   );
   CREATE INDEX job_shards_open ON orch.job_shards (state, lease_until) WHERE state <> 'done';
   CREATE TABLE orch.shard_hosts (
     jid text NOT NULL,
     shard integer NOT NULL,
     host text NOT NULL,
     PRIMARY KEY (jid, host),
     FOREIGN KEY (jid, shard) REFERENCES orch.job_shards (jid, shard) ON DELETE CASCADE
   );
   CREATE INDEX shard_hosts_shard ON orch.shard_hosts (jid, shard);`,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Bring schema `orch` to the current version; refuse one made by a newer orch. */
export async function migratePg(client: PoolClient, where: string): Promise<void> {
  // An up-to-date schema needs no write: a store that is read-only for now (or a standby) can still be read.
  const known = await client.query<{ has: boolean }>(
    `SELECT to_regclass('orch.schema_version') IS NOT NULL AS has`,
  );
  if (known.rows[0]?.has) {
    const current = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM orch.schema_version',
    );
    if (current.rows[0]?.version === MIGRATIONS.length) return;
  }
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATE_LOCK_KEY]);
    await client.query('CREATE SCHEMA IF NOT EXISTS orch');
    await client.query('CREATE TABLE IF NOT EXISTS orch.schema_version (version integer NOT NULL)');
    const res = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM orch.schema_version',
    );
    const version = res.rows[0]?.version ?? null;
    if (version === null) await client.query('INSERT INTO orch.schema_version (version) VALUES (0)');
    const from = version ?? 0;
    if (from > MIGRATIONS.length) {
      throw new OrchError(
        'JOB_STORE_ERROR',
        `job store ${where} has schema version ${from}, newer than this orch understands (${MIGRATIONS.length})`,
      );
    }
    for (let v = from; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!);
    if (from !== MIGRATIONS.length)
      await client.query('UPDATE orch.schema_version SET version = $1', [MIGRATIONS.length]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
