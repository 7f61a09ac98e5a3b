// The read-only PostgreSQL probe of a drift run: one exec per postgres host running one SELECT through psql (as the
// PostgreSQL OS user over the unix socket), returning role, WAL receiver, replay lag, slots, connected standbys and
// settings pending a restart as one JSON line. Builds and parses text; it changes nothing on the host or server.
import type { Facts } from '../facts/types.js';
import { buildBatch, newNonce } from '../shell/script.js';
import { parseBatchOutput } from '../shell/protocol.js';
import { checkQuery, parseResult, readProbe, type PgProbe } from '../pg/connector.js';
import { resolveTarget, type PgTarget } from '../pg/target.js';
import type { Connection } from '../transport/types.js';

/** What the probe read from one server (the shape drift evaluates). */
export interface PgDriftStatus {
  version: number;
  inRecovery: boolean;
  /** pg_stat_wal_receiver on a standby (null when no receiver runs). */
  receiver: { status: string; senderHost?: string | null } | null;
  /** Standby: seconds the replay is behind (0 when all received WAL is replayed); null on a primary or unknown. */
  lagSeconds: number | null;
  /** Standby: bytes received but not yet replayed; null on a primary or unknown. */
  lagBytes: number | null;
  slots: {
    name: string;
    type: string;
    active: boolean;
    walStatus: string | null;
    /** On a primary: WAL bytes the slot keeps (from its restart_lsn); null when it reserves none or unknown. */
    retainedBytes?: number | null;
  }[];
  /** max_slot_wal_keep_size in MB (-1: unbounded); null before PostgreSQL 13, which has no such bound. */
  maxSlotWalKeepMb?: number | null;
  /** pg_stat_replication rows (on a primary: its standbys). */
  replicas: {
    name: string;
    client: string | null;
    state: string;
    lagBytes: number | null;
    replayLagSeconds: number | null;
  }[];
  pendingRestart: string[];
}

// jsonb, not json: jsonb's text form is one line whatever the number of slots (json_agg inserts newlines).
// pg_current_wal_lsn() fails on a standby, so it is only reached on a primary. conninfo is never read.
export const PG_DRIFT_SQL = `SELECT jsonb_build_object(
  'version', current_setting('server_version_num')::int,
  'in_recovery', pg_is_in_recovery(),
  'receiver', (SELECT jsonb_build_object('status', r.status, 'sender_host', to_jsonb(r)->>'sender_host')
               FROM pg_stat_wal_receiver r LIMIT 1),
  'lag_seconds', CASE WHEN pg_is_in_recovery() THEN
      CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
           ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END END,
  'lag_bytes', CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) END,
  'slots', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', s.slot_name, 'type', s.slot_type, 'active', s.active,
                                                         'wal_status', to_jsonb(s)->>'wal_status',
                                                         'retained_bytes', CASE WHEN NOT pg_is_in_recovery()
                                                           THEN pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn) END) ORDER BY s.slot_name), '[]'::jsonb)
            FROM pg_replication_slots s),
  'replicas', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', r.application_name, 'client', r.client_addr::text,
                 'state', r.state,
                 'lag_bytes', CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END,
                 'replay_lag_seconds', extract(epoch FROM r.replay_lag)) ORDER BY r.application_name), '[]'::jsonb)
               FROM pg_stat_replication r),
  'max_slot_wal_keep_size', (SELECT setting FROM pg_settings WHERE name = 'max_slot_wal_keep_size'),
  'pending_restart', (SELECT coalesce(jsonb_agg(name ORDER BY name), '[]'::jsonb) FROM pg_settings WHERE pending_restart)
);`;

/** Which cluster to probe: the postgres pillar's version/cluster/port/os_user, then the facts (as postgres.* states do). */
export function pgTargetFor(pillarPg: Record<string, unknown>, facts: Facts): PgTarget {
  const paths = (pillarPg.paths ?? {}) as Record<string, unknown>;
  const str = (v: unknown) =>
    typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
  return resolveTarget(
    {
      version: str(pillarPg.version),
      cluster: str(pillarPg.cluster),
      port: typeof pillarPg.port === 'number' ? pillarPg.port : undefined,
      socket_dir: str(pillarPg.socket_dir),
      os_user: str(paths.os_user),
      maintenance_db: 'postgres',
    },
    facts,
  );
}

/** The probe script: one framed step in the batch format every engine phase uses. */
export function pgProbeScript(target: PgTarget, nonce: string): string {
  return buildBatch(nonce, [{ index: 0, body: checkQuery(target, PG_DRIFT_SQL) }]);
}

/** Run the probe on a connected host (one exec). */
export async function probePg(conn: Connection, target: PgTarget): Promise<PgProbe> {
  const nonce = newNonce();
  const res = await conn.runScript(pgProbeScript(target, nonce), { readOnly: true });
  const out = parseBatchOutput(res.stdout, nonce).get(0);
  if (!out)
    return { kind: 'error', detail: `probe did not run${res.stderr ? `: ${res.stderr.trim()}` : ''}` };
  return readProbe(out);
}

type Raw = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/** Parse the JSON line the probe printed. */
export function parsePgStatus(result: string): PgDriftStatus {
  const raw = parseResult<Raw>({ result });
  if (!raw || typeof raw !== 'object') throw new Error('the probe returned no status');
  const rec = raw.receiver as Raw | null;
  return {
    version: Number(raw.version),
    inRecovery: raw.in_recovery === true,
    receiver: rec
      ? { status: String(rec.status), senderHost: (rec.sender_host as string | null) ?? null }
      : null,
    lagSeconds: num(raw.lag_seconds),
    lagBytes: num(raw.lag_bytes),
    slots: ((raw.slots as Raw[] | null) ?? []).map((s) => ({
      name: String(s.name),
      type: String(s.type),
      active: s.active === true,
      walStatus: (s.wal_status as string | null) ?? null,
      retainedBytes: num(s.retained_bytes),
    })),
    maxSlotWalKeepMb: num(raw.max_slot_wal_keep_size),
    replicas: ((raw.replicas as Raw[] | null) ?? []).map((r) => ({
      name: String(r.name ?? ''),
      client: (r.client as string | null) ?? null,
      state: String(r.state ?? ''),
      lagBytes: num(r.lag_bytes),
      replayLagSeconds: num(r.replay_lag_seconds),
    })),
    pendingRestart: ((raw.pending_restart as unknown[] | null) ?? []).map(String),
  };
}
