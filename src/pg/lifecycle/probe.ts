// The read-only state of one node the lifecycle verbs decide on: whether the server runs, its role, timeline and
// WAL positions, its WAL receiver and upstream settings, its physical slots, and pg_control. One exec; only SELECTs
// and pg_controldata (as the PostgreSQL user: it reads a file inside the data directory that account owns).
import { errorMessage } from '../../errors.js';
import { shQuote } from '../../shell/quote.js';
import type { PgNode } from './node.js';
import { probeValueProblem } from './probe-values.js';
import { runOn } from './remote.js';

// A primary's timeline is read from its current WAL file name: pg_control's checkpoint timeline stays the old one
// until the first checkpoint after a promotion. A standby's is the newest of its restartpoint's, its minimum
// recovery point's, its receiver's and its newest timeline history file (pg_control lags behind, and a standby
// whose upstream went away has no receiver, but it keeps the history of each timeline it switched to).
export interface NodeState {
  host: string;
  running: boolean;
  /** Why the server could not be read (it runs but psql failed, ...). */
  error?: string;
  inRecovery?: boolean;
  version?: number;
  systemId?: string;
  timeline?: number;
  currentLsn?: string | null;
  receiveLsn?: string | null;
  replayLsn?: string | null;
  paused?: boolean | null;
  receiver?: {
    status: string;
    slot: string | null;
    senderHost: string | null;
    senderPort: number | null;
  } | null;
  /** primary_conninfo / primary_slot_name as set (12+); never printed (a conninfo may hold a password). */
  conninfo?: string | null;
  slotName?: string | null;
  slots: { name: string; active: boolean }[];
  control: {
    state?: string;
    checkpointLsn?: string;
    checkpointTli?: number;
    systemId?: string;
    /** pg_rewind needs one of these on its target: wal_log_hints on, or data checksums (version > 0). */
    walLogHints?: boolean;
    checksumVersion?: number;
  };
}

const STATE_SQL = `SELECT jsonb_build_object(
 'in_recovery', pg_is_in_recovery(),
 'version', current_setting('server_version_num')::int,
 'system_id', (SELECT system_identifier::text FROM pg_control_system()),
 'timeline', CASE WHEN pg_is_in_recovery()
   THEN greatest((SELECT timeline_id FROM pg_control_checkpoint()), (SELECT min_recovery_end_timeline FROM pg_control_recovery()),
     coalesce((SELECT received_tli FROM pg_stat_wal_receiver), 0),
     coalesce((SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}[.]history$'), 0))
   ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
 'current_lsn', CASE WHEN NOT pg_is_in_recovery() THEN pg_current_wal_lsn()::text END,
 'receive_lsn', pg_last_wal_receive_lsn()::text,
 'replay_lsn', pg_last_wal_replay_lsn()::text,
 'paused', CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
 'receiver', (SELECT jsonb_build_object('status', r.status, 'slot', r.slot_name, 'sender_host', to_jsonb(r)->>'sender_host',
    'sender_port', to_jsonb(r)->>'sender_port') FROM pg_stat_wal_receiver r LIMIT 1),
 'conninfo', current_setting('primary_conninfo', true),
 'slot_name', current_setting('primary_slot_name', true),
 'slots', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', slot_name, 'active', active) ORDER BY slot_name), '[]'::jsonb)
    FROM pg_replication_slots WHERE slot_type = 'physical'))`;

export const PROBE = `if running; then echo "@@running 1"; else echo "@@running 0"; fi
as_pg "$BIN/pg_controldata" -D "$DATA" 2>/dev/null | sed 's/^/@@ctl /'
if running; then
  out=$(q -c ${shQuote(STATE_SQL.replace(/\n/g, ' '))} 2>&1) && printf '@@sql %s\\n' "$out" ||
    printf '@@sqlerr %s\\n' "$(printf '%s' "$out" | tr '\\n' ' ')"
fi`;

type Raw = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Parse the probe's output lines. */
export function parseProbe(host: string, stdout: string): NodeState {
  const st: NodeState = { host, running: false, slots: [], control: {} };
  for (const line of stdout.split('\n')) {
    if (line === '@@running 1') st.running = true;
    else if (line.startsWith('@@ctl ')) {
      const [k, ...rest] = line.slice(6).split(':');
      const v = rest.join(':').trim();
      if (k === 'Database cluster state') st.control.state = v;
      else if (k === 'Latest checkpoint location') st.control.checkpointLsn = v;
      else if (k === "Latest checkpoint's TimeLineID") st.control.checkpointTli = Number(v);
      else if (k === 'Database system identifier') st.control.systemId = v;
      else if (k === 'wal_log_hints setting') st.control.walLogHints = v === 'on';
      else if (k === 'Data page checksum version') st.control.checksumVersion = Number(v);
    } else if (line.startsWith('@@sqlerr ')) st.error = line.slice(9).trim();
    else if (line.startsWith('@@sql ')) {
      try {
        const raw = JSON.parse(line.slice(6)) as Raw;
        const rec = raw.receiver as Raw | null;
        st.inRecovery = raw.in_recovery === true;
        st.version = Number(raw.version);
        st.systemId = str(raw.system_id) ?? undefined;
        st.timeline = Number(raw.timeline);
        st.currentLsn = str(raw.current_lsn);
        st.receiveLsn = str(raw.receive_lsn);
        st.replayLsn = str(raw.replay_lsn);
        st.paused = typeof raw.paused === 'boolean' ? raw.paused : null;
        st.receiver = rec
          ? {
              status: String(rec.status),
              slot: str(rec.slot),
              senderHost: str(rec.sender_host),
              senderPort: rec.sender_port ? Number(rec.sender_port) : null,
            }
          : null;
        st.conninfo = str(raw.conninfo);
        st.slotName = str(raw.slot_name);
        st.slots = ((raw.slots as Raw[] | null) ?? []).map((s) => ({
          name: String(s.name),
          active: s.active === true,
        }));
      } catch (err) {
        st.error = `unreadable state: ${errorMessage(err)}`;
      }
    }
  }
  if (st.running && st.inRecovery === undefined && !st.error) st.error = 'the server did not answer';
  const odd = st.error ? undefined : probeValueProblem(st);
  if (odd) st.error = `unexpected ${odd} (not as PostgreSQL reports it)`;
  return st;
}

/** Read a node's state (one exec). */
export async function probeNode(n: PgNode): Promise<NodeState> {
  return parseProbe(n.host, await runOn(n, 'read the server state', PROBE, 60_000));
}

/** An LSN ('16/B374D848') as a number, for comparing. */
export function lsnValue(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}
