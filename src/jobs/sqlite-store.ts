// The embedded job store: one SQLite file (<stateDir>/jobs.sqlite) in WAL mode, shared by the CLI and detached
// workers on one machine. better-sqlite3 is synchronous, so each method is one short synchronous step behind a
// promise; every write that reads first runs in BEGIN IMMEDIATE, so writers in other processes queue on the
// busy timeout instead of racing. It stores what callers give (after the redaction net) and runs nothing.
import path from 'node:path';
import Database from 'better-sqlite3';
import { createPrivateFile, privateDir, tightenFiles } from './file-modes.js';
import { OrchError } from '../errors.js';
import {
  checkFilter,
  checkFinalStatus,
  checkLeaseMs,
  checkNewJob,
  guarded,
  lockOrder,
  parseJson,
  plusMs,
  storedJson,
  storedText,
} from './common.js';
import { JidGenerator, processJids } from './jid.js';
import { filterClauses, insertUnderFreshJid, jobRecordOf } from './store-rows.js';
import { migrateSqlite } from './sqlite-schema.js';
import { sqliteTopology } from './sqlite-topology.js';
import type { TopologyRecord } from '../pg/lifecycle/topology.js';
import {
  DEFAULT_LEASE_MS,
  INTERRUPTED_HOST_STATUS,
  RUNNING_HOST_STATUS,
  type HostResultRecord,
  type JobFilter,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type LockResult,
  type NewJob,
} from './store.js';

export interface SqliteStoreOptions {
  /** Id source; tests inject one to force collisions. */
  jids?: JidGenerator;
  /** The file's directory is orch's own state dir: make it 0700 even when it exists with a looser mode. */
  privateDir?: boolean;
}

interface JobRow {
  jid: string;
  verb: string;
  target: string;
  args: string;
  user: string;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  lease_until: string | null;
  exit_code: number | null;
  summary: string | null;
  cancel_requested: number;
}

interface HostRow {
  jid: string;
  host: string;
  status: string;
  result: string;
  updated_at: string;
}

/** Thrown inside a lock transaction to roll it back; never leaves this module. */
class LockConflict {
  constructor(
    readonly host: string,
    readonly heldBy: string,
  ) {}
}

const ACTIVE = `('queued','running')`;
const FINAL = `('succeeded','failed','cancelled','interrupted')`;

/** Open (creating and migrating when needed) the SQLite job store at file. */
export async function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Promise<SqliteJobStore> {
  return guarded(file, 'open', () => {
    // The default location is the project's state dir (.orch), which is made private as a whole; a file
    // elsewhere (sqlite:<path>) gets private files, and new directories, but an existing directory is left be.
    privateDir(path.dirname(file), opts.privateDir === true);
    createPrivateFile(file);
    tightenFiles(file);
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal')
        throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
      db.pragma('synchronous = NORMAL');
      migrateSqlite(db, file);
      // SQLite gives -wal / -shm the database file's mode; tighten again for files an older orch created.
      tightenFiles(file);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteJobStore(db, file, opts.jids ?? processJids);
  });
}

export class SqliteJobStore implements JobStore {
  private closed = false;
  /** Prepared statements by SQL text: a run writes one host result per host, each preparing it again cost more
   * than running it. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly jids: JidGenerator,
  ) {}

  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  async create(job: NewJob): Promise<JobRecord> {
    checkNewJob(job);
    return this.op('create', async () => {
      const now = new Date();
      const running = job.status === 'running';
      const insert = this.stmt(
        `INSERT INTO jobs (jid, verb, target, args, user, status, created_at, started_at, worker, lease_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const jid = await insertUnderFreshJid(
        this.jids,
        (err) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
        (id) =>
          insert.run(
            id,
            job.verb,
            storedText(job.target),
            storedJson(job.args ?? {}),
            job.user,
            job.status,
            now.toISOString(),
            running ? now.toISOString() : null,
            job.worker ?? null,
            running ? plusMs(now, job.leaseMs ?? DEFAULT_LEASE_MS) : null,
          ),
      );
      return this.read(jid)!;
    });
  }

  async claimNext(worker: string, leaseMs: number): Promise<JobRecord | null> {
    checkLeaseMs(leaseMs);
    await this.reapExpired();
    return this.op('claimNext', () => {
      const jid = this.db
        .transaction(() => {
          const next = this.stmt(
            `SELECT jid FROM jobs WHERE status = 'queued' ORDER BY jid LIMIT 1`,
          ).get() as { jid: string } | undefined;
          if (!next) return null;
          const now = new Date();
          this.stmt(
            `UPDATE jobs SET status = 'running', worker = ?, started_at = ?, lease_until = ?
               WHERE jid = ? AND status = 'queued'`,
          ).run(worker, now.toISOString(), plusMs(now, leaseMs), next.jid);
          return next.jid;
        })
        .immediate();
      return jid === null ? null : this.read(jid);
    });
  }

  async heartbeat(jid: string, worker: string, leaseMs: number): Promise<boolean> {
    checkLeaseMs(leaseMs);
    return this.op('heartbeat', () =>
      this.db
        .transaction(() => {
          const until = plusMs(new Date(), leaseMs);
          const changed = this.stmt(
            `UPDATE jobs SET lease_until = ? WHERE jid = ? AND worker = ? AND status = 'running'`,
          ).run(until, jid, worker).changes;
          if (changed === 0) return false;
          this.stmt(`UPDATE host_locks SET lease_until = ? WHERE jid = ?`).run(until, jid);
          return true;
        })
        .immediate(),
    );
  }

  async putHostResult(jid: string, host: string, status: string, result: unknown): Promise<void> {
    await this.op('putHostResult', () => {
      // Progress counts only while the job is live (a worker that lost its lease may still send some).
      this.stmt(
        `INSERT INTO host_results (jid, host, status, result, updated_at) SELECT ?, ?, ?, ?, ?
           WHERE ? <> '${RUNNING_HOST_STATUS}' OR EXISTS (SELECT 1 FROM jobs WHERE jid = ? AND status IN ${ACTIVE})
           ON CONFLICT (jid, host) DO UPDATE
             SET status = excluded.status, result = excluded.result, updated_at = excluded.updated_at`,
      ).run(jid, host, storedText(status), storedJson(result), new Date().toISOString(), status, jid);
    });
  }

  async finish(
    jid: string,
    status: JobStatus,
    exitCode: number,
    summary?: Record<string, unknown>,
  ): Promise<void> {
    checkFinalStatus(status);
    await this.op('finish', () =>
      this.db
        .transaction(() => {
          const changed = this.stmt(
            `UPDATE jobs SET status = ?, exit_code = ?, summary = ?, finished_at = ?, lease_until = NULL
               WHERE jid = ?`,
          ).run(
            status,
            exitCode,
            summary === undefined ? null : storedJson(summary),
            new Date().toISOString(),
            jid,
          ).changes;
          if (changed === 0) throw new OrchError('JOB_STORE_ERROR', `no job ${jid} to finish`);
          this.stmt(`DELETE FROM host_locks WHERE jid = ?`).run(jid);
          this.endRunningHosts([jid]);
        })
        .immediate(),
    );
  }

  async get(jid: string): Promise<JobRecord | null> {
    return this.op('get', () => this.db.transaction(() => this.read(jid))());
  }

  async list(f: JobFilter): Promise<JobRecord[]> {
    const limit = checkFilter(f);
    return this.op('list', () =>
      this.db.transaction(() => {
        const params: unknown[] = [];
        const where = filterClauses(
          f,
          (v) => {
            params.push(v instanceof Date ? v.toISOString() : v);
            return '?';
          },
          'host_results',
        );
        params.push(limit);
        const rows = this.stmt(
          `SELECT j.* FROM jobs j ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
             ORDER BY j.jid DESC LIMIT ?`,
        ).all(...params) as JobRow[];
        const hosts = this.hostsOf(rows.map((r) => r.jid));
        return rows.map((r) => toRecord(r, hosts.get(r.jid) ?? {}));
      })(),
    );
  }

  async requestCancel(jid: string): Promise<JobRecord | null> {
    return this.op('requestCancel', () =>
      this.db
        .transaction(() => {
          const row = this.stmt(`SELECT status FROM jobs WHERE jid = ?`).get(jid) as
            { status: JobStatus } | undefined;
          if (!row) return null;
          if (row.status === 'queued') {
            this.stmt(
              `UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ?, lease_until = NULL
                 WHERE jid = ?`,
            ).run(new Date().toISOString(), jid);
            this.stmt(`DELETE FROM host_locks WHERE jid = ?`).run(jid);
          } else if (row.status === 'running') {
            this.stmt(`UPDATE jobs SET cancel_requested = 1 WHERE jid = ?`).run(jid);
          }
          return this.read(jid);
        })
        .immediate(),
    );
  }

  async isCancelRequested(jid: string): Promise<boolean> {
    return this.op('isCancelRequested', () => {
      const row = this.stmt(`SELECT status, cancel_requested FROM jobs WHERE jid = ?`).get(jid) as
        { status: JobStatus; cancel_requested: number } | undefined;
      return !!row && (row.cancel_requested === 1 || row.status === 'cancelled');
    });
  }

  async markInterrupted(
    jid: string,
    worker: string,
    exitCode: number,
    summary: Record<string, unknown>,
  ): Promise<boolean> {
    return this.op('markInterrupted', () =>
      this.db
        .transaction(() => {
          const changed = this.stmt(
            `UPDATE jobs SET status = 'interrupted', exit_code = ?, summary = ?, finished_at = ?, lease_until = NULL
               WHERE jid = ? AND worker = ? AND status = 'running'`,
          ).run(exitCode, storedJson(summary), new Date().toISOString(), jid, worker).changes;
          if (changed === 0) return false;
          this.stmt(`DELETE FROM host_locks WHERE jid = ?`).run(jid);
          this.endRunningHosts([jid]);
          return true;
        })
        .immediate(),
    );
  }

  async reapExpired(now: Date = new Date()): Promise<string[]> {
    return this.op('reapExpired', () =>
      this.db
        .transaction(() => {
          const at = now.toISOString();
          const reaped = this.stmt(
            `UPDATE jobs SET status = 'interrupted', finished_at = ?, lease_until = NULL
               WHERE status = 'running' AND lease_until IS NOT NULL AND lease_until < ?
               RETURNING jid`,
          ).all(at, at) as { jid: string }[];
          // Locks die with their lease or with their job, whichever comes first.
          this.stmt(
            `DELETE FROM host_locks WHERE lease_until < ?
                 OR jid IN (SELECT jid FROM jobs WHERE status NOT IN ${ACTIVE})`,
          ).run(at);
          this.endRunningHosts(reaped.map((r) => r.jid));
          return reaped.map((r) => r.jid).sort();
        })
        .immediate(),
    );
  }

  async prune(olderThan: Date): Promise<number> {
    return this.op(
      'prune',
      () =>
        this.stmt(`DELETE FROM jobs WHERE status IN ${FINAL} AND COALESCE(finished_at, created_at) < ?`).run(
          olderThan.toISOString(),
        ).changes,
    );
  }

  async lockHosts(jid: string, hosts: string[], leaseMs: number): Promise<LockResult> {
    checkLeaseMs(leaseMs);
    const ordered = lockOrder(hosts);
    await this.reapExpired();
    return this.op('lockHosts', () => {
      try {
        this.db
          .transaction(() => {
            const job = this.stmt(`SELECT status FROM jobs WHERE jid = ?`).get(jid) as
              { status: JobStatus } | undefined;
            if (!job) throw new OrchError('JOB_STORE_ERROR', `no job ${jid} to lock hosts for`);
            if (job.status !== 'queued' && job.status !== 'running') {
              throw new OrchError(
                'JOB_STORE_ERROR',
                `job ${jid} is ${job.status}; only a live job can lock hosts`,
              );
            }
            const now = new Date();
            const at = now.toISOString();
            const until = plusMs(now, leaseMs);
            // Take the row when it is free, ours, expired, or held by a job that already ended.
            const take = this.stmt(
              `INSERT INTO host_locks (host, jid, lease_until) VALUES (?, ?, ?)
               ON CONFLICT (host) DO UPDATE SET jid = excluded.jid, lease_until = excluded.lease_until
               WHERE host_locks.jid = excluded.jid OR host_locks.lease_until < ?
                  OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.jid = host_locks.jid AND j.status IN ${ACTIVE})
               RETURNING jid`,
            );
            const holder = this.stmt(`SELECT jid FROM host_locks WHERE host = ?`);
            for (const host of ordered) {
              if (take.get(host, jid, until, at) === undefined) {
                const held = holder.get(host) as { jid: string } | undefined;
                throw new LockConflict(host, held?.jid ?? 'unknown');
              }
            }
          })
          .immediate();
        return { ok: true } as const;
      } catch (err) {
        if (err instanceof LockConflict) return { ok: false, host: err.host, heldBy: err.heldBy } as const;
        throw err;
      }
    });
  }

  listTopologies(): Promise<TopologyRecord[]> {
    return this.op('listTopologies', () => sqliteTopology.list(this.db));
  }

  putTopology(rec: Omit<TopologyRecord, 'epoch'>, expectEpoch: number): Promise<boolean> {
    return this.op('putTopology', () => sqliteTopology.put(this.db, rec, expectEpoch));
  }

  async unlockHosts(jid: string): Promise<void> {
    await this.op('unlockHosts', () => {
      this.stmt(`DELETE FROM host_locks WHERE jid = ?`).run(jid);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private op<T>(what: string, fn: () => T): Promise<T> {
    if (this.closed)
      return Promise.reject(new OrchError('JOB_STORE_ERROR', `job store ${this.file} is closed`));
    return guarded(this.file, what, fn);
  }

  /** Host records still `running` of jobs that just ended: nothing confirmed them, they are interrupted. */
  private endRunningHosts(jids: string[]): void {
    if (jids.length === 0) return;
    this.stmt(
      `UPDATE host_results SET status = '${INTERRUPTED_HOST_STATUS}', updated_at = ?
         WHERE status = '${RUNNING_HOST_STATUS}' AND jid IN (SELECT value FROM json_each(?))`,
    ).run(new Date().toISOString(), JSON.stringify(jids));
  }

  private read(jid: string): JobRecord | null {
    const row = this.stmt(`SELECT * FROM jobs WHERE jid = ?`).get(jid) as JobRow | undefined;
    if (!row) return null;
    return toRecord(row, this.hostsOf([jid]).get(jid) ?? {});
  }

  private hostsOf(jids: string[]): Map<string, Record<string, HostResultRecord>> {
    const out = new Map<string, Record<string, HostResultRecord>>();
    if (jids.length === 0) return out;
    // The id list travels as one JSON parameter; json_each unpacks it, so no SQL is built from values.
    const rows = this.stmt(
      `SELECT * FROM host_results WHERE jid IN (SELECT value FROM json_each(?)) ORDER BY jid, host`,
    ).all(JSON.stringify(jids)) as HostRow[];
    for (const r of rows) {
      let hosts = out.get(r.jid);
      if (!hosts) out.set(r.jid, (hosts = {}));
      hosts[r.host] = {
        host: r.host,
        status: r.status,
        result: parseJson(r.result),
        updatedAt: r.updated_at,
      };
    }
    return out;
  }
}

function toRecord(r: JobRow, hosts: Record<string, HostResultRecord>): JobRecord {
  return jobRecordOf(
    {
      jid: r.jid,
      verb: r.verb,
      target: r.target,
      args: (parseJson(r.args) as Record<string, unknown> | undefined) ?? null,
      user: r.user,
      status: r.status,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      worker: r.worker,
      leaseUntil: r.lease_until,
      exitCode: r.exit_code,
      summary: r.summary === null ? null : (parseJson(r.summary) as Record<string, unknown>),
      cancelRequested: r.cancel_requested === 1,
    },
    hosts,
  );
}
