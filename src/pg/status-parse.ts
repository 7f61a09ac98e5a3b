// Pure parsing of the `orch pg status` script output (status-script.ts) into per-server records.
import { FS } from './status-script.js';

export interface ReceiverInfo {
  status: string;
  slot: string;
  /** Upstream host and port, from the receiver's conninfo. */
  host: string;
  port: string;
}

export interface ReplicationRow {
  application: string;
  clientAddr: string;
  state: string;
  syncState: string;
  replayLagBytes: number | null;
  writeLagS: number | null;
  flushLagS: number | null;
  replayLagS: number | null;
}

export interface SlotRow {
  name: string;
  type: string;
  active: boolean;
  walStatus: string;
  retainedBytes: number | null;
}

export interface ServerStatus {
  socketDir: string;
  port: number;
  error?: string;
  role?: 'primary' | 'standby';
  versionNum?: number;
  timeline?: number;
  /** Standby: bytes received but not yet replayed. */
  lagBytes?: number | null;
  /** Standby: seconds since the last replayed transaction (0 when everything received is replayed). */
  lagSeconds?: number | null;
  receiver?: ReceiverInfo;
  replication: ReplicationRow[];
  slots: SlotRow[];
}

export interface HostStatus {
  servers: ServerStatus[];
  /** Set when the script itself could not look (no psql). */
  error?: string;
  /** False when the output was cut short. */
  complete: boolean;
}

const num = (v: string | undefined): number | null =>
  v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Number(v);

/** host and port keys of a libpq conninfo string as pg_stat_wal_receiver shows it. */
export function conninfoHostPort(conninfo: string): { host: string; port: string } {
  const pick = (key: string): string => {
    const m = new RegExp(`(?:^|\\s)${key}=('(?:[^'\\\\]|\\\\.)*'|\\S+)`).exec(conninfo);
    if (!m) return '';
    const v = m[1]!;
    return v.startsWith("'") ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
  };
  return { host: pick('host'), port: pick('port') };
}

/** Parse one host's script output. */
export function parseStatusOutput(stdout: string): HostStatus {
  const result: HostStatus = { servers: [], complete: false };
  let cur: ServerStatus | null = null;
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line) continue;
    const f = line.split(FS);
    switch (f[0]) {
      case '@@cluster':
        cur = { socketDir: f[1] ?? '', port: Number(f[2]), replication: [], slots: [] };
        result.servers.push(cur);
        break;
      case '@@error':
        if (cur) cur.error = f.slice(1).join(' ').trim();
        else result.error = f.slice(1).join(' ').trim();
        break;
      case '@@end':
        result.complete = true;
        break;
      case 'node':
        if (!cur) break;
        cur.role = f[1] === 't' ? 'standby' : 'primary';
        cur.versionNum = num(f[2]) ?? undefined;
        cur.timeline = num(f[3]) ?? undefined;
        if (cur.role === 'standby') {
          cur.lagBytes = num(f[4]);
          cur.lagSeconds = num(f[5]);
        }
        break;
      case 'receiver':
        if (cur)
          cur.receiver = { status: f[1] ?? '', slot: f[2] ?? '', ...conninfoHostPort(f.slice(3).join(FS)) };
        break;
      case 'repl':
        cur?.replication.push({
          application: f[1] ?? '',
          clientAddr: f[2] ?? '',
          state: f[3] ?? '',
          syncState: f[4] ?? '',
          replayLagBytes: num(f[5]),
          writeLagS: num(f[6]),
          flushLagS: num(f[7]),
          replayLagS: num(f[8]),
        });
        break;
      case 'slot':
        cur?.slots.push({
          name: f[1] ?? '',
          type: f[2] ?? '',
          active: f[3] === 't',
          walStatus: f[4] ?? '',
          retainedBytes: num(f[5]),
        });
        break;
      default:
        // A psql error for one of the follow-up queries: keep it on the server.
        if (cur && !line.startsWith('@@')) cur.error = [cur.error, line.trim()].filter(Boolean).join('; ');
    }
  }
  return result;
}
