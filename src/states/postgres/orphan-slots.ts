// postgres.orphan_slots: physical replication slots on the primary that no replica in the pillar owns keep WAL
// for nobody. The check lists them with the WAL each keeps; with `drop: true` the apply drops the inactive ones
// (an active one has a client streaming from it and is only reported). Logical slots are never touched.
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
} from '../../pg/connector.js';
import { resolveTarget, type PgTarget } from '../../pg/target.js';
import { probeOutcome } from './probe-outcome.js';
import { slotName } from './slot.js';
import { targetArgFields } from './target.js';

const args = z
  .object({
    name: z.string().optional().describe('state name (unused; the state id)'),
    keep: z
      .array(slotName)
      .describe('the slots replicas own (the pillar postgres.slots); all others are orphans'),
    drop: z.boolean().default(false).describe('drop inactive orphans (default: only report them)'),
    ...targetArgFields,
  })
  .strict();
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
}

interface OrphanRow {
  name: string;
  active: boolean;
  retained: number | null;
}

/** SQL condition: a physical slot not in `keep`. */
function orphanWhere(keep: string[]): string {
  const list = keep.map(quoteLiteral).join(', ');
  return `slot_type = 'physical' AND NOT (slot_name = ANY (ARRAY[${list}]::text[]))`;
}

/** SQL: one JSON line, the orphans with the WAL each keeps (bytes from restart_lsn; null when none reserved). */
export function orphanQuery(keep: string[]): string {
  return `SELECT coalesce(jsonb_agg(jsonb_build_object('name', slot_name, 'active', active,
  'retained', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) END)
  ORDER BY slot_name), '[]'::jsonb) FROM pg_replication_slots WHERE ${orphanWhere(keep)};\n`;
}

const mb = (b: number | null) =>
  b === null ? 'no WAL reserved' : `keeps ${(b / 1048576).toFixed(1)} MiB of WAL`;

export const postgresOrphanSlots: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    return { target: resolveTarget(a, ctx.facts) };
  },
  check(a, p) {
    return checkQuery(p.target, orphanQuery(a.keep));
  },
  interpretCheck(a, _p, out) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, 'orphan replication slots');
    if (early || probe.kind !== 'up') return early!;
    const rows = parseResult<OrphanRow[]>(probe) ?? [];
    if (rows.length === 0)
      return { status: 'clean', comment: 'no replication slot without a replica in the pillar' };
    const line = (r: OrphanRow) =>
      `slot ${r.name} (${mb(r.retained)}${r.active ? '; active: a client streams from it' : ''})`;
    const idle = rows.filter((r) => !r.active);
    const busy = rows.filter((r) => r.active);
    const notes = busy.map((r) => `kept: ${line(r)}`);
    if (!a.drop || idle.length === 0) {
      return {
        status: 'clean',
        comment: [
          `${rows.length} replication slot(s) without a replica in the pillar${a.drop ? '' : ' (drop: false; reported by drift)'}`,
          ...rows.map((r) => `  ${line(r)}`),
        ].join('\n'),
      };
    }
    return {
      status: 'change',
      comment: [`${idle.length} orphan replication slot(s) would be dropped`, ...notes].join('\n'),
      diff: idle.map((r) => `- ${line(r)}`).join('\n'),
    };
  },
  apply(a, p) {
    const t = p.target;
    // Dropped only while still inactive, decided again on the server at the moment of dropping.
    const where = `${orphanWhere(a.keep)} AND NOT active`;
    return `${psqlSetup(t)}\n${requireRunning(t)}\n${applySql(
      t,
      `SELECT count(*) > 0 AS orch_some FROM pg_replication_slots WHERE ${where} \\gset
\\if :orch_some
SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE ${where};
${SQL_CHANGED}
\\endif
`,
    )}`;
  },
  interpretApply(_a, _p, out) {
    return defaultApplyOutcome(out, 'orphan replication slots');
  },
};
