// postgres.slot: a physical replication slot on the server (create when missing, reuse when present, so a replica
// clone never needs pg_basebackup --create-slot). Inactive slots are reported because they keep WAL forever.
// It refuses to drop an active slot and never touches logical slots.
import { z } from 'zod';
import { quoteLiteral } from '../../sql/quote.js';
import { defaultApplyOutcome } from '../common.js';
import type { StateFunction } from '../types.js';
import {
  applySql,
  checkQuery,
  parseResult,
  psqlSetup,
  readProbe,
  requireRunning,
  SQL_CHANGED,
  sqlFail,
} from '../../pg/connector.js';
import { resolveTarget, type PgTarget } from '../../pg/target.js';
import { probeOutcome } from './probe-outcome.js';
import { targetArgFields } from './target.js';

/** PostgreSQL's own rule for slot names. */
export const slotName = z
  .string()
  .regex(/^[a-z0-9_]{1,63}$/, 'slot names are 1-63 lower-case letters, digits and _');

const args = z
  .object({
    name: slotName.describe('replication slot name'),
    ensure: z.enum(['present', 'absent']).default('present').describe('whether the slot exists'),
    type: z.literal('physical').default('physical').describe('slot type (physical only)'),
    /** Reserve WAL from creation on (pg_create_physical_replication_slot's immediately_reserve). */
    reserve_wal: z.boolean().default(true).describe('reserve WAL from creation on'),
    ...targetArgFields,
  })
  .strict();
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
}

interface SlotRow {
  slot_type: string;
  active: boolean;
  wal_status?: string | null;
  restart_lsn?: string | null;
}

/** SQL: one JSON line, the slot's pg_replication_slots row or null (columns vary by version, so the whole row). */
export function slotQuery(name: string): string {
  return `SELECT coalesce((SELECT row_to_json(s) FROM pg_replication_slots s WHERE slot_name = ${quoteLiteral(name)}), 'null'::json);\n`;
}

function presentSql(a: Args): string {
  const lit = quoteLiteral(a.name);
  return `SELECT count(*) = 0 AS orch_missing, coalesce(bool_or(slot_type <> 'physical'), false) AS orch_wrong
  FROM pg_replication_slots WHERE slot_name = ${lit} \\gset
\\if :orch_wrong
${sqlFail('a replication slot of that name exists but is not physical')}
\\elif :orch_missing
SELECT NULL FROM pg_create_physical_replication_slot(${lit}, ${a.reserve_wal});
${SQL_CHANGED}
\\endif
`;
}

function absentSql(a: Args): string {
  const lit = quoteLiteral(a.name);
  return `SELECT count(*) > 0 AS orch_present, coalesce(bool_or(active), false) AS orch_active,
  coalesce(bool_or(slot_type <> 'physical'), false) AS orch_wrong
  FROM pg_replication_slots WHERE slot_name = ${lit} \\gset
\\if :orch_active
${sqlFail('refusing to drop an active replication slot (a standby is using it)')}
\\elif :orch_wrong
${sqlFail('refusing to drop a logical replication slot')}
\\elif :orch_present
SELECT NULL FROM pg_drop_replication_slot(${lit});
${SQL_CHANGED}
\\endif
`;
}

export const postgresSlot: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    return { target: resolveTarget(a, ctx.facts) };
  },
  check(a, p) {
    return checkQuery(p.target, slotQuery(a.name));
  },
  interpretCheck(a, _p, out) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, `replication slot ${a.name}`);
    if (early || probe.kind !== 'up') return early!;
    const row = parseResult<SlotRow>(probe);
    if (a.ensure === 'absent') {
      if (!row) return { status: 'clean', comment: `replication slot ${a.name} is absent` };
      if (row.active)
        return { status: 'error', comment: `replication slot ${a.name} is active; refusing to drop it` };
      if (row.slot_type !== 'physical')
        return {
          status: 'error',
          comment: `replication slot ${a.name} is ${row.slot_type}; refusing to drop it`,
        };
      return {
        status: 'change',
        comment: `replication slot ${a.name} would be dropped`,
        diff: `- slot ${a.name}`,
      };
    }
    if (!row)
      return {
        status: 'change',
        comment: `physical replication slot ${a.name} would be created`,
        diff: `+ slot ${a.name}`,
      };
    if (row.slot_type !== 'physical') {
      return {
        status: 'error',
        comment: `replication slot ${a.name} exists as a ${row.slot_type} slot, not physical`,
      };
    }
    const notes: string[] = [
      row.active ? 'active' : 'inactive: it retains WAL until a standby streams from it',
    ];
    if (row.wal_status === 'lost') notes.push('wal_status lost: its standby needs a new base backup');
    else if (row.wal_status === 'unreserved')
      notes.push('wal_status unreserved: WAL it needs is about to be removed');
    return { status: 'clean', comment: `replication slot ${a.name} exists (${notes.join('; ')})` };
  },
  apply(a, p) {
    const t = p.target;
    return `${psqlSetup(t)}\n${requireRunning(t)}\n${applySql(t, a.ensure === 'absent' ? absentSql(a) : presentSql(a))}`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `replication slot ${a.name}`);
  },
};
