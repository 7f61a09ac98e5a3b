// Schema of the embedded job store and its migrations, versioned with PRAGMA user_version. Applied by code at open,
// inside BEGIN IMMEDIATE so two processes opening a fresh file at once cannot both migrate. Touches only its tables.
import type Database from 'better-sqlite3';
import { OrchError } from '../errors.js';

/** Migration i brings the schema from version i to i + 1. Never edit a shipped one; append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     jid TEXT PRIMARY KEY,
     verb TEXT NOT NULL,
     target TEXT NOT NULL,
     args TEXT NOT NULL,
     user TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled','interrupted')),
     created_at TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     worker TEXT,
     lease_until TEXT,
     exit_code INTEGER,
     summary TEXT,
     cancel_requested INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX jobs_status ON jobs (status, jid);
   CREATE INDEX jobs_target ON jobs (target);
   CREATE TABLE host_results (
     jid TEXT NOT NULL REFERENCES jobs (jid) ON DELETE CASCADE,
     host TEXT NOT NULL,
     status TEXT NOT NULL,
     result TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (jid, host)
   );
   CREATE INDEX host_results_host ON host_results (host);
   CREATE TABLE host_locks (
     host TEXT PRIMARY KEY,
     jid TEXT NOT NULL REFERENCES jobs (jid) ON DELETE CASCADE,
     lease_until TEXT NOT NULL
   );
   CREATE INDEX host_locks_jid ON host_locks (jid);`,
  // The recorded topology of each replication cluster (docs/LIFECYCLE.md); epoch guards concurrent verbs.
  `CREATE TABLE topology (
     cluster TEXT PRIMARY KEY,
     epoch INTEGER NOT NULL,
     record TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Bring the database to the current schema; refuse a file made by a newer orch. */
export function migrateSqlite(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new OrchError(
        'JOB_STORE_ERROR',
        `job store ${file} has schema version ${version}, newer than this orch understands (${MIGRATIONS.length})`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    // user_version cannot be bound as a parameter; the value is our own integer, never user input.
    if (version !== MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
