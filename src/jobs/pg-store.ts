// The PostgreSQL job store, for controllers and workers on several machines sharing one job history. Tables live in
// the SQL schema `orch` (see pg-schema.ts). Every value travels as a query parameter; identifiers are fixed text.
// Claims use FOR UPDATE SKIP LOCKED; host locks are rows keyed by host with a lease. It stores what callers give
// (after the redaction net) and never runs jobs; it touches nothing outside schema `orch`.
import pg from 'pg';
import { OrchError } from '../errors.js';
import {
  checkFilter,
  checkFinalStatus,
  checkLeaseMs,
  checkNewJob,
  describePgUrl,
  guarded,
  lockOrder,
  plusMs,
  storedJson,
  storedText,
} from './common.js';
import { JidGenerator, processJids } from './jid.js';
import { filterClauses, insertUnderFreshJid, jobRecordOf } from './store-rows.js';
import { REAP_LOCK_KEY, migratePg } from './pg-schema.js';
import { pgShards } from './pg-shards.js';
import { pgTopology } from './pg-topology.js';
import { splitShards } from './shards.js';
import type { TopologyRecord } from '../pg/lifecycle/topology.js';
import {
  DEFAULT_LEASE_MS,
  INTERRUPTED_HOST_STATUS,
  RUNNING_HOST_STATUS,
  type HostResultRecord,
  type JobFilter,
  type JobRecord,
  type ClaimedShard,
  type JobStatus,
  type JobStore,
  type LockResult,
  type NewJob,
  type ShardCompletion,
  type ShardStore,
} from './store.js';

export interface PgStoreOptions {
  /** Id source; tests inject one to force collisions. */
  jids?: JidGenerator;
  /** Connections in the pool (default 4). */
  poolSize?: number;
  /** How long to wait for a connection (default 5000 ms). */
  connectTimeoutMs?: number;
}

interface JobRow {
  jid: string;
  verb: string;
  target: string;
  args: Record<string, unknown>;
  username: string;
  status: JobStatus;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  worker: string | null;
  lease_until: Date | null;
  exit_code: number | null;
  summary: Record<string, unknown> | null;
  cancel_requested: boolean;
  shard_size: number | null;
  hosts: { host: string; status: string; result: unknown; updated_at: string }[];
}

const ACTIVE = `('queued','running')`;
const FINAL = `('succeeded','failed','cancelled','interrupted')`;
/** Deadlock and serialization failures: the transaction was rolled back whole and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const TX_ATTEMPTS = 3;

/** For the statements that end jobs (CTE j: their ids; $5: now): their host records still 'running' become
 * 'interrupted', as nothing confirmed them. */
const END_RUNNING_HOSTS = `h AS (
           UPDATE orch.host_results SET status = '${INTERRUPTED_HOST_STATUS}', updated_at = $5
           WHERE status = '${RUNNING_HOST_STATUS}' AND jid IN (SELECT jid FROM j))`;

/** A job row with its host results gathered in the same statement (one snapshot). */
const SELECT_JOBS = `SELECT j.*, COALESCE((
    SELECT json_agg(json_build_object('host', h.host, 'status', h.status, 'result', h.result,
                                      'updated_at', h.updated_at) ORDER BY h.host)
    FROM orch.host_results h WHERE h.jid = j.jid), '[]'::json) AS hosts
  FROM orch.jobs j`;

/** Connect to PostgreSQL at url and create or migrate schema `orch`. */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgJobStore> {
  const where = describePgUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 10_000,
    application_name: 'orch',
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    await guarded(where, 'open', async () => {
      const client = await pool.connect();
      try {
        await migratePg(client, where);
      } finally {
        client.release();
      }
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new PgJobStore(pool, where, opts.jids ?? processJids);
}

/** Thrown inside a lock transaction to roll it back; never leaves this module. */
class LockConflict {
  constructor(
    readonly host: string,
    readonly heldBy: string,
  ) {}
}

export class PgJobStore implements JobStore, ShardStore {
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
    private readonly jids: JidGenerator,
  ) {}

  async create(job: NewJob): Promise<JobRecord> {
    checkNewJob(job);
    return this.op('create', async () => {
      const now = new Date();
      const running = job.status === 'running';
      const jid = await insertUnderFreshJid(
        this.jids,
        (err) => {
          const e = err as { code?: string; constraint?: string };
          return e.code === '23505' && e.constraint === 'jobs_pkey';
        },
        (id) =>
          this.pool.query(
            `INSERT INTO orch.jobs (jid, verb, target, args, username, status, created_at, started_at, worker, lease_until)
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10)`,
            [
              id,
              job.verb,
              storedText(job.target),
              storedJson(job.args ?? {}),
              job.user,
              job.status,
              now,
              running ? now : null,
              job.worker ?? null,
              running ? plusMs(now, job.leaseMs ?? DEFAULT_LEASE_MS) : null,
            ],
          ),
      );
      return (await this.read(jid))!;
    });
  }

  async claimNext(worker: string, leaseMs: number): Promise<JobRecord | null> {
    checkLeaseMs(leaseMs);
    await this.reapExpired();
    return this.op('claimNext', async () => {
      const now = new Date();
      const res = await this.pool.query<{ jid: string }>(
        // A sharded job is never one worker's: its shards are claimed one by one (claimShard).
        `UPDATE orch.jobs SET status = 'running', worker = $1, started_at = $2, lease_until = $3
         WHERE status = 'queued' AND jid = (
           SELECT jid FROM orch.jobs WHERE status = 'queued' AND shard_size IS NULL
           ORDER BY jid LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING jid`,
        [worker, now, plusMs(now, leaseMs)],
      );
      const jid = res.rows[0]?.jid;
      return jid === undefined ? null : this.read(jid);
    });
  }

  async heartbeat(jid: string, worker: string, leaseMs: number): Promise<boolean> {
    checkLeaseMs(leaseMs);
    return this.op('heartbeat', async () => {
      const res = await this.pool.query<{ n: number }>(
        `WITH j AS (
           UPDATE orch.jobs SET lease_until = $1 WHERE jid = $2 AND worker = $3 AND status = 'running' RETURNING jid),
         l AS (UPDATE orch.host_locks SET lease_until = $1 WHERE jid IN (SELECT jid FROM j))
         SELECT count(*)::int AS n FROM j`,
        [plusMs(new Date(), leaseMs), jid, worker],
      );
      return (res.rows[0]?.n ?? 0) > 0;
    });
  }

  async putHostResult(jid: string, host: string, status: string, result: unknown): Promise<void> {
    await this.op('putHostResult', () =>
      // Progress counts only while the job is live (a worker that lost its lease may still send some).
      this.pool.query(
        `INSERT INTO orch.host_results (jid, host, status, result, updated_at)
           SELECT $1::text, $2::text, $3::text, $4::jsonb, $5::timestamptz
           WHERE $3::text <> '${RUNNING_HOST_STATUS}'
              OR EXISTS (SELECT 1 FROM orch.jobs WHERE jid = $1::text AND status IN ${ACTIVE})
         ON CONFLICT (jid, host) DO UPDATE
           SET status = EXCLUDED.status, result = EXCLUDED.result, updated_at = EXCLUDED.updated_at`,
        [jid, host, storedText(status), storedJson(result), new Date()],
      ),
    );
  }

  async finish(
    jid: string,
    status: JobStatus,
    exitCode: number,
    summary?: Record<string, unknown>,
  ): Promise<void> {
    checkFinalStatus(status);
    await this.op('finish', async () => {
      const res = await this.pool.query<{ n: number }>(
        `WITH j AS (
           UPDATE orch.jobs SET status = $2, exit_code = $3, summary = $4::jsonb, finished_at = $5, lease_until = NULL
           WHERE jid = $1 RETURNING jid),
         d AS (DELETE FROM orch.host_locks WHERE jid IN (SELECT jid FROM j)),
         ${END_RUNNING_HOSTS}
         SELECT count(*)::int AS n FROM j`,
        [jid, status, exitCode, summary === undefined ? null : storedJson(summary), new Date()],
      );
      if ((res.rows[0]?.n ?? 0) === 0) throw new OrchError('JOB_STORE_ERROR', `no job ${jid} to finish`);
    });
  }

  async markInterrupted(
    jid: string,
    worker: string,
    exitCode: number,
    summary: Record<string, unknown>,
  ): Promise<boolean> {
    return this.op('markInterrupted', async () => {
      const res = await this.pool.query<{ n: number }>(
        `WITH j AS (
           UPDATE orch.jobs SET status = 'interrupted', exit_code = $3, summary = $4::jsonb, finished_at = $5,
             lease_until = NULL
           WHERE jid = $1 AND worker = $2 AND status = 'running' RETURNING jid),
         d AS (DELETE FROM orch.host_locks WHERE jid IN (SELECT jid FROM j)),
         ${END_RUNNING_HOSTS}
         SELECT count(*)::int AS n FROM j`,
        [jid, worker, exitCode, storedJson(summary), new Date()],
      );
      return (res.rows[0]?.n ?? 0) > 0;
    });
  }

  async get(jid: string): Promise<JobRecord | null> {
    return this.op('get', () => this.read(jid));
  }

  async list(f: JobFilter): Promise<JobRecord[]> {
    const limit = checkFilter(f);
    return this.op('list', async () => {
      const params: unknown[] = [];
      const param = (v: unknown): string => {
        params.push(v);
        return `$${params.length}`;
      };
      const where = filterClauses(f, param, 'orch.host_results');
      const res = await this.pool.query<JobRow>(
        `${SELECT_JOBS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY j.jid DESC LIMIT ${param(limit)}`,
        params,
      );
      return res.rows.map(toRecord);
    });
  }

  async requestCancel(jid: string): Promise<JobRecord | null> {
    return this.op('requestCancel', async () => {
      await this.tx(async (c) => {
        const res = await c.query<{ status: JobStatus }>(
          `UPDATE orch.jobs SET cancel_requested = true,
             status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
             finished_at = CASE WHEN status = 'queued' THEN $2 ELSE finished_at END,
             lease_until = CASE WHEN status = 'queued' THEN NULL ELSE lease_until END
           WHERE jid = $1 AND status IN ${ACTIVE} RETURNING status`,
          [jid, new Date()],
        );
        if (res.rows[0]?.status === 'cancelled')
          await c.query(`DELETE FROM orch.host_locks WHERE jid = $1`, [jid]);
        // A sharded job gives up the shards nobody runs now; with none running it ends here.
        await pgShards.settle(c, jid, new Date(), (cc, id) => this.read(id, cc));
      });
      return this.read(jid);
    });
  }

  async isCancelRequested(jid: string): Promise<boolean> {
    return this.op('isCancelRequested', async () => {
      const res = await this.pool.query<{ yes: boolean }>(
        `SELECT (cancel_requested OR status = 'cancelled') AS yes FROM orch.jobs WHERE jid = $1`,
        [jid],
      );
      return res.rows[0]?.yes === true;
    });
  }

  async reapExpired(now: Date = new Date()): Promise<string[]> {
    return this.op('reapExpired', () =>
      this.tx(async (c) => {
        // One reaper at a time: a second one would only wait for the same rows.
        const got = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock($1::bigint) AS ok`, [
          REAP_LOCK_KEY,
        ]);
        if (!got.rows[0]?.ok) return [];
        const res = await c.query<{ jid: string }>(
          `WITH r AS (
             UPDATE orch.jobs SET status = 'interrupted', finished_at = $1, lease_until = NULL
             WHERE status = 'running' AND lease_until < $1 RETURNING jid),
           d AS (
             DELETE FROM orch.host_locks WHERE lease_until < $1 OR jid IN (SELECT jid FROM r)
               OR jid IN (SELECT jid FROM orch.jobs WHERE status NOT IN ${ACTIVE})),
           h AS (
             UPDATE orch.host_results SET status = '${INTERRUPTED_HOST_STATUS}', updated_at = $1
             WHERE status = '${RUNNING_HOST_STATUS}' AND jid IN (SELECT jid FROM r))
           SELECT jid FROM r ORDER BY jid`,
          [now],
        );
        return res.rows.map((r) => r.jid);
      }),
    );
  }

  async prune(olderThan: Date): Promise<number> {
    return this.op('prune', async () => {
      const res = await this.pool.query(
        `DELETE FROM orch.jobs WHERE status IN ${FINAL} AND COALESCE(finished_at, created_at) < $1`,
        [olderThan],
      );
      return res.rowCount ?? 0;
    });
  }

  async lockHosts(jid: string, hosts: string[], leaseMs: number): Promise<LockResult> {
    checkLeaseMs(leaseMs);
    const ordered = lockOrder(hosts);
    await this.reapExpired();
    return this.op('lockHosts', async () => {
      try {
        await this.tx(async (c) => {
          // FOR SHARE keeps the job from finishing (and dropping its locks) while it takes them.
          const job = await c.query<{ status: JobStatus }>(
            `SELECT status FROM orch.jobs WHERE jid = $1 FOR SHARE`,
            [jid],
          );
          const status = job.rows[0]?.status;
          if (status === undefined) throw new OrchError('JOB_STORE_ERROR', `no job ${jid} to lock hosts for`);
          if (status !== 'queued' && status !== 'running') {
            throw new OrchError('JOB_STORE_ERROR', `job ${jid} is ${status}; only a live job can lock hosts`);
          }
          const now = new Date();
          const until = plusMs(now, leaseMs);
          for (const host of ordered) {
            // Take the row when it is free, ours, expired, or held by a job that already ended.
            const took = await c.query(
              `INSERT INTO orch.host_locks AS l (host, jid, lease_until) VALUES ($1, $2, $3)
               ON CONFLICT (host) DO UPDATE SET jid = EXCLUDED.jid, lease_until = EXCLUDED.lease_until
               WHERE l.jid = EXCLUDED.jid OR l.lease_until < $4
                  OR NOT EXISTS (SELECT 1 FROM orch.jobs j WHERE j.jid = l.jid AND j.status IN ${ACTIVE})
               RETURNING jid`,
              [host, jid, until, now],
            );
            if (took.rowCount === 0) {
              const held = await c.query<{ jid: string }>(`SELECT jid FROM orch.host_locks WHERE host = $1`, [
                host,
              ]);
              throw new LockConflict(host, held.rows[0]?.jid ?? 'unknown');
            }
          }
        });
        return { ok: true } as const;
      } catch (err) {
        if (err instanceof LockConflict) return { ok: false, host: err.host, heldBy: err.heldBy } as const;
        throw err;
      }
    });
  }

  async createSharded(job: NewJob, shards: string[][]): Promise<JobRecord> {
    checkNewJob(job);
    if (job.status !== 'queued') throw new OrchError('BAD_INPUT', 'a sharded job is created queued');
    const all = shards.flat();
    if (shards.length === 0 || shards.some((s) => s.length === 0) || new Set(all).size !== all.length)
      throw new OrchError('BAD_INPUT', 'shards must be non-empty and share no host');
    // Validates the count the same way the CLI's split does.
    splitShards(all, Math.max(...shards.map((s) => s.length)));
    return this.op('createSharded', async () => {
      const jid = await this.tx(async (c) => {
        const now = new Date();
        const id = await insertUnderFreshJid(
          this.jids,
          (err) => {
            const e = err as { code?: string; constraint?: string };
            return e.code === '23505' && e.constraint === 'jobs_pkey';
          },
          async (id) => {
            // A taken id fails only its own statement, not the transaction.
            await c.query('SAVEPOINT fresh_jid');
            try {
              await c.query(
                `INSERT INTO orch.jobs (jid, verb, target, args, username, status, created_at, shard_size)
                 VALUES ($1, $2, $3, $4::jsonb, $5, 'queued', $6, $7)`,
                [
                  id,
                  job.verb,
                  storedText(job.target),
                  storedJson(job.args ?? {}),
                  job.user,
                  now,
                  Math.max(...shards.map((s) => s.length)),
                ],
              );
              await c.query('RELEASE SAVEPOINT fresh_jid');
            } catch (err) {
              await c.query('ROLLBACK TO SAVEPOINT fresh_jid');
              throw err;
            }
          },
        );
        await pgShards.insert(c, id, shards);
        return id;
      });
      return (await this.read(jid))!;
    });
  }

  async claimShard(worker: string, leaseMs: number): Promise<ClaimedShard | null> {
    checkLeaseMs(leaseMs);
    return this.op('claimShard', async () => {
      // Jobs asked to stop whose open shards nobody runs end first (their shards are not claimed).
      for (const jid of await pgShards.cancelledWithOpenShards(this.pool, new Date()))
        await this.tx((c) => pgShards.settle(c, jid, new Date(), (cc, id) => this.read(id, cc)));
      const got = await this.tx((c) => pgShards.claim(c, worker, leaseMs, new Date()));
      if (!got) return null;
      const job = await this.read(got.jid);
      return job ? { ...got, job } : null;
    });
  }

  async heartbeatShard(jid: string, shard: number, worker: string, leaseMs: number): Promise<boolean> {
    checkLeaseMs(leaseMs);
    return this.op('heartbeatShard', () => pgShards.heartbeat(this.pool, jid, shard, worker, leaseMs));
  }

  async releaseShard(jid: string, shard: number, worker: string): Promise<boolean> {
    return this.op('releaseShard', () => pgShards.release(this.pool, jid, shard, worker));
  }

  async completeShard(
    jid: string,
    shard: number,
    worker: string,
    exitCode: number,
  ): Promise<ShardCompletion> {
    return this.op('completeShard', () =>
      this.tx(async (c) => {
        // The job row first: completions of one job queue here, so the last one sees every other shard done.
        await c.query(`SELECT 1 FROM orch.jobs WHERE jid = $1 FOR UPDATE`, [jid]);
        if (!(await pgShards.complete(c, jid, shard, worker, exitCode))) return { completed: false };
        const finished = await pgShards.settle(c, jid, new Date(), (cc, id) => this.read(id, cc));
        return finished ? { completed: true, finished } : { completed: true };
      }),
    );
  }

  listTopologies(): Promise<TopologyRecord[]> {
    return this.op('listTopologies', () => pgTopology.list(this.pool));
  }

  putTopology(rec: Omit<TopologyRecord, 'epoch'>, expectEpoch: number): Promise<boolean> {
    return this.op('putTopology', () => pgTopology.put(this.pool, rec, expectEpoch));
  }

  async unlockHosts(jid: string): Promise<void> {
    await this.op('unlockHosts', () => this.pool.query(`DELETE FROM orch.host_locks WHERE jid = $1`, [jid]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new OrchError('JOB_STORE_ERROR', `job store ${this.where} is closed`));
    return guarded(this.where, what, fn);
  }

  /** Run fn in a transaction on one pooled connection, again (bounded) after a deadlock rolled it back. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if (attempt >= TX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw err;
      } finally {
        client.release();
      }
    }
  }

  /** One job with its host results (and shards), on db (a transaction's connection) or the pool. */
  private async read(jid: string, db: pg.Pool | pg.PoolClient = this.pool): Promise<JobRecord | null> {
    const res = await db.query<JobRow>(`${SELECT_JOBS} WHERE j.jid = $1`, [jid]);
    const row = res.rows[0];
    if (!row) return null;
    const rec = toRecord(row);
    if (row.shard_size !== null) rec.shards = await pgShards.list(db, jid);
    return rec;
  }
}

function iso(d: Date | string): string {
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

function toRecord(r: JobRow): JobRecord {
  const hosts: Record<string, HostResultRecord> = {};
  for (const h of r.hosts)
    hosts[h.host] = { host: h.host, status: h.status, result: h.result, updatedAt: iso(h.updated_at) };
  const at = (d: Date | null): string | null => (d === null ? null : iso(d));
  const rec = jobRecordOf(
    {
      jid: r.jid,
      verb: r.verb,
      target: r.target,
      args: r.args,
      user: r.username,
      status: r.status,
      createdAt: iso(r.created_at),
      startedAt: at(r.started_at),
      finishedAt: at(r.finished_at),
      worker: r.worker,
      leaseUntil: at(r.lease_until),
      exitCode: r.exit_code,
      summary: r.summary,
      cancelRequested: r.cancel_requested,
    },
    hosts,
  );
  if (r.shard_size !== null && r.shard_size !== undefined) rec.shardSize = r.shard_size;
  return rec;
}
