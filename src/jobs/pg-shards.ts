// Sharded jobs in the PostgreSQL store: the SQL of orch.job_shards and orch.shard_hosts (pg-schema.ts). A shard is
// claimed with FOR UPDATE SKIP LOCKED (two workers never get the same one), held under a lease its worker renews
// together with its hosts' locks, and taken over by any worker once that lease ran out. The worker completing a
// job's last shard ends the job in the same transaction, under the job row's lock, so the end happens once.
// Statements run on the connection they are given (the store's transactions); values are always parameters.
import type pg from 'pg';
import { plusMs, storedJson } from './common.js';
import { shardedOutcome } from './shards.js';
import {
  INTERRUPTED_HOST_STATUS,
  RUNNING_HOST_STATUS,
  type JobRecord,
  type JobStatus,
  type ShardRecord,
} from './store.js';

type Db = pg.Pool | pg.PoolClient;

const ACTIVE = `('queued','running')`;

/** The hosts of one shard ($1 job, $2 shard), for the statements that touch their locks. */
const SHARD_HOSTS = `SELECT host FROM orch.shard_hosts WHERE jid = $1 AND shard = $2`;

/** Shards a worker may take at instant $1: queued, or claimed under a lease that ran out, of a live job. */
const CLAIMABLE = `(s.state = 'queued' OR (s.state = 'claimed' AND s.lease_until < $1))`;

export const pgShards = {
  /** Shard rows and their host rows for a job just inserted (same transaction). */
  async insert(c: pg.PoolClient, jid: string, shards: string[][]): Promise<void> {
    await c.query(
      `INSERT INTO orch.job_shards (jid, shard, state) SELECT $1, g, 'queued' FROM generate_series(0, $2::int - 1) g`,
      [jid, shards.length],
    );
    const nos = shards.flatMap((hosts, i) => hosts.map(() => i));
    await c.query(
      `INSERT INTO orch.shard_hosts (jid, shard, host) SELECT $1, t.s, t.h FROM unnest($2::int[], $3::text[]) AS t(s, h)`,
      [jid, nos, shards.flat()],
    );
  },

  /** Take one claimable shard for worker (the job becomes running at its first claim); null when none. */
  async claim(
    c: pg.PoolClient,
    worker: string,
    leaseMs: number,
    now: Date,
  ): Promise<{ jid: string; shard: number; attempt: number; hosts: string[] } | null> {
    const res = await c.query<{ jid: string; shard: number; attempt: number }>(
      `WITH pick AS (
         SELECT s.jid, s.shard FROM orch.job_shards s JOIN orch.jobs j ON j.jid = s.jid
         WHERE ${CLAIMABLE} AND j.status IN ${ACTIVE} AND NOT j.cancel_requested
         ORDER BY s.jid, s.shard LIMIT 1 FOR UPDATE OF s SKIP LOCKED)
       UPDATE orch.job_shards s SET state = 'claimed', claimed_by = $2, lease_until = $3, attempt = s.attempt + 1
       FROM pick WHERE s.jid = pick.jid AND s.shard = pick.shard
       RETURNING s.jid, s.shard, s.attempt`,
      [now, worker, plusMs(now, leaseMs)],
    );
    const row = res.rows[0];
    if (!row) return null;
    await c.query(
      `UPDATE orch.jobs SET status = 'running', started_at = COALESCE(started_at, $2)
       WHERE jid = $1 AND status = 'queued'`,
      [row.jid, now],
    );
    const hosts = await c.query<{ host: string }>(`${SHARD_HOSTS} ORDER BY host`, [row.jid, row.shard]);
    return { ...row, hosts: hosts.rows.map((r) => r.host) };
  },

  /** Jobs asked to stop that still have shards nobody runs (queued, or a dead worker's): settle each. */
  async cancelledWithOpenShards(db: Db, now: Date): Promise<string[]> {
    const res = await db.query<{ jid: string }>(
      `SELECT DISTINCT s.jid FROM orch.job_shards s JOIN orch.jobs j ON j.jid = s.jid
       WHERE ${CLAIMABLE} AND j.status IN ${ACTIVE} AND j.cancel_requested ORDER BY s.jid`,
      [now],
    );
    return res.rows.map((r) => r.jid);
  },

  async heartbeat(db: Db, jid: string, shard: number, worker: string, leaseMs: number): Promise<boolean> {
    const res = await db.query<{ n: number }>(
      `WITH s AS (
         UPDATE orch.job_shards SET lease_until = $4
         WHERE jid = $1 AND shard = $2 AND claimed_by = $3 AND state = 'claimed' RETURNING jid),
       l AS (UPDATE orch.host_locks SET lease_until = $4
             WHERE jid IN (SELECT jid FROM s) AND host IN (${SHARD_HOSTS}))
       SELECT count(*)::int AS n FROM s`,
      [jid, shard, worker, plusMs(new Date(), leaseMs)],
    );
    return (res.rows[0]?.n ?? 0) > 0;
  },

  async release(db: Db, jid: string, shard: number, worker: string): Promise<boolean> {
    const res = await db.query<{ n: number }>(
      `WITH s AS (
         UPDATE orch.job_shards SET state = 'queued', claimed_by = NULL, lease_until = NULL
         WHERE jid = $1 AND shard = $2 AND claimed_by = $3 AND state = 'claimed' RETURNING jid),
       d AS (DELETE FROM orch.host_locks WHERE jid IN (SELECT jid FROM s) AND host IN (${SHARD_HOSTS}))
       SELECT count(*)::int AS n FROM s`,
      [jid, shard, worker],
    );
    return (res.rows[0]?.n ?? 0) > 0;
  },

  /** Mark the shard done (only while worker holds it) and free its hosts' locks; false when it was not held. The
   * caller holds the job row's lock (see settle). */
  async complete(
    c: pg.PoolClient,
    jid: string,
    shard: number,
    worker: string,
    exitCode: number,
  ): Promise<boolean> {
    const res = await c.query(
      `UPDATE orch.job_shards SET state = 'done', lease_until = NULL, exit_code = $4
       WHERE jid = $1 AND shard = $2 AND claimed_by = $3 AND state = 'claimed'`,
      [jid, shard, worker, exitCode],
    );
    if (res.rowCount === 0) return false;
    await c.query(`DELETE FROM orch.host_locks WHERE jid = $1 AND host IN (${SHARD_HOSTS})`, [jid, shard]);
    return true;
  },

  /**
   * Under the job row's lock (taken here; callers completing a shard take it first): a job asked to stop gives up
   * the shards nobody runs; when no shard is left open, the job ends with the one result of all its hosts. Only
   * one transaction at a time holds that lock and each sees the shards the previous one marked, so exactly one
   * ends the job. Returns its end, or undefined when the job goes on (or had already ended).
   */
  async settle(
    c: pg.PoolClient,
    jid: string,
    now: Date,
    read: (c: pg.PoolClient, jid: string) => Promise<JobRecord | null>,
  ): Promise<{ status: JobStatus; exitCode: number } | undefined> {
    const job = await c.query<{ status: JobStatus; cancel_requested: boolean; shard_size: number | null }>(
      `SELECT status, cancel_requested, shard_size FROM orch.jobs WHERE jid = $1 FOR UPDATE`,
      [jid],
    );
    const row = job.rows[0];
    if (!row || row.shard_size === null) return undefined;
    const live = row.status === 'queued' || row.status === 'running';
    if (!live || row.cancel_requested) {
      await c.query(
        `UPDATE orch.job_shards s SET state = 'done', lease_until = NULL WHERE s.jid = $2 AND ${CLAIMABLE}`,
        [now, jid],
      );
    }
    const open = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orch.job_shards WHERE jid = $1 AND state <> 'done'`,
      [jid],
    );
    if (!live || (open.rows[0]?.n ?? 0) > 0) return undefined;
    const codes = await c.query<{ exit_code: number }>(
      `SELECT exit_code FROM orch.job_shards WHERE jid = $1 AND exit_code IS NOT NULL ORDER BY shard`,
      [jid],
    );
    const record = await read(c, jid);
    if (!record) return undefined;
    const out = shardedOutcome(
      record,
      codes.rows.map((r) => r.exit_code),
    );
    await c.query(
      `WITH j AS (
         UPDATE orch.jobs SET status = $2, exit_code = $3, summary = $4::jsonb, finished_at = $5, lease_until = NULL
         WHERE jid = $1 RETURNING jid),
       d AS (DELETE FROM orch.host_locks WHERE jid IN (SELECT jid FROM j))
       UPDATE orch.host_results SET status = '${INTERRUPTED_HOST_STATUS}', updated_at = $5
       WHERE status = '${RUNNING_HOST_STATUS}' AND jid IN (SELECT jid FROM j)`,
      [jid, out.status, out.exitCode, storedJson(out.summary), now],
    );
    return { status: out.status, exitCode: out.exitCode };
  },

  /** The shards of a job with their hosts, by number. */
  async list(db: Db, jid: string): Promise<ShardRecord[]> {
    const res = await db.query<{
      shard: number;
      state: ShardRecord['state'];
      claimed_by: string | null;
      lease_until: Date | null;
      attempt: number;
      exit_code: number | null;
      hosts: string[];
    }>(
      `SELECT s.shard, s.state, s.claimed_by, s.lease_until, s.attempt, s.exit_code,
         COALESCE((SELECT json_agg(h.host ORDER BY h.host) FROM orch.shard_hosts h
                   WHERE h.jid = s.jid AND h.shard = s.shard), '[]'::json) AS hosts
       FROM orch.job_shards s WHERE s.jid = $1 ORDER BY s.shard`,
      [jid],
    );
    return res.rows.map((r) => {
      const rec: ShardRecord = { shard: r.shard, state: r.state, attempt: r.attempt, hosts: r.hosts };
      if (r.claimed_by !== null) rec.worker = r.claimed_by;
      if (r.lease_until !== null) rec.leaseUntil = new Date(r.lease_until).toISOString();
      if (r.exit_code !== null) rec.exitCode = r.exit_code;
      return rec;
    });
  },
};
