// Decides PostgreSQL drift from what the probe read and the host's postgres pillar: inactive or WAL-losing slots,
// a standby not streaming, replay lag over the limits, settings waiting for a restart, a server in the wrong role.
// Pure: no I/O.
import type { PgProbe } from '../pg/connector.js';
import { parsePgStatus, type PgDriftStatus } from './pg-probe.js';
import type { PgFinding } from './types.js';

export interface PgDriftLimits {
  /** Replay lag above this many seconds is drift (pillar postgres.drift.max_lag_seconds, default 300). */
  maxLagSeconds: number;
  /** Replay lag above this many bytes is drift (postgres.drift.max_lag_bytes; no limit unless set). */
  maxLagBytes?: number;
  /** The role the pillar expects (postgres.primary names the primary host); undefined when it does not say. */
  expectedRole?: 'primary' | 'standby';
  /** On the pillar's primary: the slots its replicas own (postgres.slots); any other physical slot is an orphan. */
  ownedSlots?: string[];
  /** A standby's expected upstream: the primary's name and its postgres.nodes address (recorded topology). */
  expectedUpstream?: string[];
}

export const DEFAULT_MAX_LAG_SECONDS = 300;

/** The postgres pillar of a host, or undefined when it has none (no PostgreSQL drift checks then). */
export function postgresPillar(pillar: Record<string, unknown>): Record<string, unknown> | undefined {
  const pg = pillar.postgres;
  return pg && typeof pg === 'object' && !Array.isArray(pg) ? (pg as Record<string, unknown>) : undefined;
}

/** Limits and expected role from a host's postgres pillar. */
export function pgLimits(pillarPg: Record<string, unknown>, host: string): PgDriftLimits {
  const d = (pillarPg.drift ?? {}) as Record<string, unknown>;
  const positive = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  const limits: PgDriftLimits = { maxLagSeconds: positive(d.max_lag_seconds) ?? DEFAULT_MAX_LAG_SECONDS };
  const bytes = positive(d.max_lag_bytes);
  if (bytes !== undefined) limits.maxLagBytes = bytes;
  if (typeof pillarPg.primary === 'string' && pillarPg.primary !== '') {
    limits.expectedRole = pillarPg.primary === host ? 'primary' : 'standby';
    const nodes = (pillarPg.nodes ?? {}) as Record<string, unknown>;
    const addr = nodes[pillarPg.primary];
    if (pillarPg.primary !== host)
      limits.expectedUpstream = [pillarPg.primary, ...(typeof addr === 'string' ? [addr] : [])];
  }
  const slots = pillarPg.slots;
  if (limits.expectedRole === 'primary' && slots && typeof slots === 'object' && !Array.isArray(slots)) {
    limits.ownedSlots = Object.values(slots as Record<string, unknown>).filter(
      (v): v is string => typeof v === 'string',
    );
  }
  return limits;
}

/** Findings from a probe outcome: server missing/down is drift, a failed query is an error. */
export function pgFindings(probe: PgProbe, limits: PgDriftLimits): PgFinding[] {
  if (probe.kind === 'missing') {
    return [{ check: 'server', severity: 'drift', message: 'PostgreSQL is not installed (no psql found)' }];
  }
  if (probe.kind === 'down') {
    return [{ check: 'server', severity: 'drift', message: `PostgreSQL is not running (${probe.detail})` }];
  }
  if (probe.kind === 'error') {
    return [
      {
        check: 'query',
        severity: 'error',
        message: `could not read the replication status: ${probe.detail}`,
      },
    ];
  }
  let status: PgDriftStatus;
  try {
    status = parsePgStatus(probe.result);
  } catch (err) {
    return [
      {
        check: 'query',
        severity: 'error',
        message: `unreadable replication status: ${(err as Error).message}`,
      },
    ];
  }
  return statusFindings(status, limits);
}

const fmtBytes = (n: number) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${n} bytes`);

/** On a primary: physical slots no replica in the pillar owns (with the WAL they keep), and WAL retention of
 * slots that is not bounded (PostgreSQL 12 and older cannot bound it; 13+ with max_slot_wal_keep_size -1). */
export function slotRetentionFindings(s: PgDriftStatus, limits: PgDriftLimits): PgFinding[] {
  const out: PgFinding[] = [];
  const physical = s.slots.filter((sl) => sl.type === 'physical');
  if (limits.ownedSlots) {
    for (const sl of physical) {
      if (limits.ownedSlots.includes(sl.name)) continue;
      const kept =
        sl.retainedBytes === null || sl.retainedBytes === undefined
          ? 'no WAL reserved yet'
          : `keeps ${fmtBytes(sl.retainedBytes)} of WAL`;
      out.push({
        check: 'slot',
        severity: 'drift',
        subject: sl.name,
        message: `replication slot ${sl.name} belongs to no replica in the pillar (postgres.slots); ${kept}${sl.active ? '; a client streams from it' : ''}; drop it with postgres.drop_orphan_slots: true`,
      });
    }
  }
  if (physical.length > 0) {
    if (s.version > 0 && s.version < 130000) {
      out.push({
        check: 'slot',
        severity: 'warning',
        message: `PostgreSQL ${Math.floor(s.version / 10000)} cannot bound the WAL its ${physical.length} slot(s) keep (max_slot_wal_keep_size is 13+): a slot whose standby is gone keeps WAL until the disk is full`,
      });
    } else if (s.maxSlotWalKeepMb === -1) {
      out.push({
        check: 'slot',
        severity: 'warning',
        message: `max_slot_wal_keep_size is -1: the WAL its ${physical.length} slot(s) keep is unbounded (set postgres.settings.max_slot_wal_keep_size)`,
      });
    }
  }
  return out;
}

/** Findings from a server's status. */
export function statusFindings(s: PgDriftStatus, limits: PgDriftLimits): PgFinding[] {
  const out: PgFinding[] = [];
  const role = s.inRecovery ? 'standby' : 'primary';
  if (limits.expectedRole && limits.expectedRole !== role) {
    out.push({
      check: 'role',
      severity: 'drift',
      message:
        role === 'primary'
          ? `server is out of recovery (a primary) but ${limits.expectedUpstream?.[0] ?? 'another node'} is the expected primary: two primaries (split brain) unless that one is down`
          : `server is a ${role}; the pillar expects a ${limits.expectedRole}`,
    });
  }
  const sender = s.receiver?.senderHost;
  if (s.inRecovery && sender && limits.expectedRole === 'standby' && limits.expectedUpstream) {
    if (!limits.expectedUpstream.includes(sender)) {
      out.push({
        check: 'upstream',
        severity: 'drift',
        subject: sender,
        message: `standby streams from ${sender}, not from the recorded primary ${limits.expectedUpstream[0]}`,
      });
    }
  }
  for (const slot of s.slots) {
    if (!slot.active) {
      out.push({
        check: 'slot',
        severity: 'drift',
        subject: slot.name,
        message: `replication slot ${slot.name} is inactive (it keeps WAL until a standby uses it or it is dropped)`,
      });
    }
    if (slot.walStatus === 'unreserved' || slot.walStatus === 'lost') {
      out.push({
        check: 'slot',
        severity: 'drift',
        subject: slot.name,
        message: `replication slot ${slot.name} has wal_status '${slot.walStatus}' (${slot.walStatus === 'lost' ? 'the WAL its standby needs is gone' : 'its WAL is about to be removed'})`,
      });
    }
  }
  if (!s.inRecovery) out.push(...slotRetentionFindings(s, limits));
  if (s.inRecovery) {
    if (!s.receiver || s.receiver.status !== 'streaming') {
      out.push({
        check: 'streaming',
        severity: 'drift',
        message: s.receiver
          ? `standby is not streaming (WAL receiver ${s.receiver.status})`
          : 'standby is not streaming (no WAL receiver)',
      });
    }
    if (s.lagSeconds !== null && s.lagSeconds > limits.maxLagSeconds) {
      out.push({
        check: 'lag',
        severity: 'drift',
        message: `replay lag ${Math.round(s.lagSeconds)} s is above ${limits.maxLagSeconds} s`,
      });
    }
    if (limits.maxLagBytes !== undefined && s.lagBytes !== null && s.lagBytes > limits.maxLagBytes) {
      out.push({
        check: 'lag',
        severity: 'drift',
        message: `replay lag ${fmtBytes(s.lagBytes)} is above ${fmtBytes(limits.maxLagBytes)}`,
      });
    }
  }
  for (const r of s.replicas) {
    const who = r.name || r.client || 'a standby';
    const seconds = r.replayLagSeconds !== null && r.replayLagSeconds > limits.maxLagSeconds;
    const bytes = limits.maxLagBytes !== undefined && r.lagBytes !== null && r.lagBytes > limits.maxLagBytes;
    if (seconds || bytes) {
      const what = seconds ? `${Math.round(r.replayLagSeconds!)} s` : fmtBytes(r.lagBytes!);
      out.push({
        check: 'replica_lag',
        severity: 'drift',
        subject: who,
        message: `standby ${who} replays ${what} behind`,
      });
    }
  }
  for (const name of s.pendingRestart) {
    out.push({
      check: 'pending_restart',
      severity: 'drift',
      subject: name,
      message: `setting ${name} was changed but takes effect only after a restart`,
    });
  }
  return out;
}
