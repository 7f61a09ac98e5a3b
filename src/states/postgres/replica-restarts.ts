// postgres.restart_gate: standbys restart before their primary. PostgreSQL wants some settings (max_connections,
// max_worker_processes, max_wal_senders, max_prepared_transactions, max_locks_per_transaction) at least as high on a
// standby as on its primary, so when they are raised the standbys go first; and restarting every node at the same
// moment leaves no server up. The service state watches this one and restarts only when it reports a change:
// - it changes when the server has settings waiting for a restart (pg_settings.pending_restart) and every standby
//   listed runs them already (asked over TCP as the replication role, its .pgpass: the value each standby runs and
//   whether it still waits for a restart itself); a server with nothing pending is not restarted at all;
// - it waits for them, at most wait_seconds; a standby that does not get there (unreachable, not restarted, another
//   value) fails it: the primary is not restarted and pending_restart is reported;
// - a standby that is not in this run (or a rolling run's batch) is asked once, not waited for: nothing restarts it
//   meanwhile. When it already runs the settings it does not hold the primary back; otherwise the gate fails at once,
//   saying to apply that standby first;
// - a standby whose slot on this server never streamed (a replica not built yet) is not waited for: it is built
//   from this server after it restarted.
// On a standby (no standbys listed) it only says whether a restart is due.
import { z } from 'zod';
import { quoteLiteral } from '../../sql/quote.js';
import { shQuote, printContent } from '../../shell/quote.js';
import { defaultApplyOutcome, absolutePath } from '../common.js';
import type { StateFunction } from '../types.js';
import {
  checkQuery,
  parseResult,
  psqlHeredoc,
  psqlSetup,
  readProbe,
  socketPresent,
} from '../../pg/connector.js';
import { conninfo, hostProblem, roleProblem } from '../../pg/conninfo.js';
import { resolveTarget, type PgTarget } from '../../pg/target.js';
import { probeOutcome } from './probe-outcome.js';
import { slotName } from './slot.js';
import { targetArgFields } from './target.js';

const hostName = z.string().superRefine((h, ctx) => {
  const p = hostProblem(h);
  if (p) ctx.addIssue({ code: 'custom', message: `standby ${JSON.stringify(h)} ${p}` });
});

const args = z
  .object({
    name: z.string().optional().describe('state name (unused; the state id)'),
    standbys: z
      .record(hostName, slotName)
      .default({})
      .describe('standbys that restart first: host -> its slot on this server (the pillar postgres.slots)'),
    standby_port: z.number().int().min(1).max(65535).default(5432).describe("the standbys' port"),
    replication_user: z
      .string()
      .superRefine((u, ctx) => {
        const p = roleProblem(u);
        if (p) ctx.addIssue({ code: 'custom', message: `replication_user ${p}` });
      })
      .optional()
      .describe('role that connects to the standbys (required when standbys are listed)'),
    pgpass: absolutePath.optional().describe("the .pgpass holding that role's password"),
    wait_seconds: z
      .number()
      .int()
      .min(0)
      .max(86400)
      .default(600)
      .describe('how long to wait for the standbys to restart before refusing to restart'),
    ...targetArgFields,
  })
  .strict();
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
}

const CHECK_SQL = `SELECT coalesce(jsonb_agg(name ORDER BY name), '[]'::jsonb) FROM pg_settings WHERE pending_restart;\n`;

/**
 * SQL on the server itself, three parts: line 1 the settings waiting for a restart (comma list, may be empty),
 * line 2 a JSON list of {name, vartype, expected} with the value each will have after the restart in the unit
 * pg_settings.setting uses (what a standby reports once it runs it), then one line per standby to wait for.
 */
export function planSql(standbys: Record<string, string>): string {
  const rows = Object.entries(standbys).map(([h, s]) => `(${quoteLiteral(h)}, ${quoteLiteral(s)})`);
  const hosts = rows.length
    ? `SELECT v.h FROM (VALUES ${rows.join(', ')}) v(h, s) JOIN pg_replication_slots r ON r.slot_name = v.s
  WHERE r.active OR r.restart_lsn IS NOT NULL ORDER BY v.h;\n`
    : '';
  return `SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM pg_settings WHERE pending_restart;
WITH f AS (
  SELECT DISTINCT ON (name) name, setting AS fv FROM pg_file_settings
  WHERE error IS NULL OR error = 'setting could not be applied' ORDER BY name, seqno DESC
)
SELECT coalesce(jsonb_agg(jsonb_build_object('name', s.name, 'vartype', s.vartype, 'expected', CASE
    WHEN s.vartype = 'bool' THEN CASE WHEN f.fv::bool THEN 'on' ELSE 'off' END
    WHEN s.vartype IN ('integer', 'real') AND trim(f.fv) ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN trim(f.fv)
    WHEN s.vartype IN ('integer', 'real') AND s.unit IN ('B', 'kB', '8kB', 'MB') THEN (pg_size_bytes(f.fv)::numeric /
      CASE s.unit WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192 ELSE 1048576 END)::text
    WHEN s.vartype IN ('integer', 'real') AND s.unit IN ('us', 'ms', 's', 'min') THEN (extract(epoch FROM f.fv::interval) /
      CASE s.unit WHEN 'us' THEN 0.000001 WHEN 'ms' THEN 0.001 WHEN 's' THEN 1 ELSE 60 END)::text
    ELSE f.fv END)), '[]'::jsonb)
  FROM pg_settings s JOIN f ON f.name = s.name WHERE s.pending_restart;
${hosts}`;
}

/** SQL on a standby (psql variable orch_expect: planSql's line 2): 'ok', 'not a standby', or what it still lacks. */
export const STANDBY_SQL = `SELECT CASE WHEN NOT pg_is_in_recovery() THEN 'not a standby' ELSE coalesce((
  SELECT 'runs ' || string_agg(e->>'name' || ' = ' || coalesce(s.setting, '?')
    || CASE WHEN s.pending_restart THEN ' (restart pending)' ELSE '' END, ', ' ORDER BY e->>'name')
  FROM jsonb_array_elements(:'orch_expect'::jsonb) e LEFT JOIN pg_settings s ON s.name = e->>'name'
  WHERE s.name IS NULL OR s.pending_restart OR NOT CASE
    WHEN s.vartype IN ('integer', 'real') THEN s.setting::numeric = (e->>'expected')::numeric
    WHEN s.vartype = 'enum' THEN lower(s.setting) = lower(e->>'expected')
    ELSE s.setting = e->>'expected' END), 'ok') END;
`;

/** Shell that sets orch_rg_away=1 when $orch_rg_h is a standby not in this run (none when all are, or unknown). */
function awayCase(away: readonly string[]): string {
  return away.length ? `case $orch_rg_h in ${away.map(shQuote).join('|')}) orch_rg_away=1 ;; esac` : ':';
}

/**
 * Ask the standbys. One that is not in this run is asked once (nothing restarts it meanwhile) and asked first: when
 * one of them lacks the settings the gate fails at once, and the standbys of the run are asked without waiting.
 * The standbys of the run are waited for, at most wait_seconds in all.
 */
function waitBody(a: Args, t: PgTarget, away: readonly string[]): string {
  const db = conninfo([
    ['dbname', 'postgres'],
    ...(a.pgpass ? ([['passfile', a.pgpass]] as const) : []),
    ['connect_timeout', '5'],
    ['application_name', 'orch_restart_gate'],
  ]);
  const ask = printContent(
    STANDBY_SQL,
    `| orch_psql ${shQuote(t.osUser)} "$orch_rg_h" ${shQuote(String(a.standby_port))} ${shQuote(db)} ${shQuote(a.replication_user ?? '')} -v "orch_expect=$orch_rg_expect" >"$orch_pg_tmp/s" 2>"$orch_pg_tmp/s.err"`,
  );
  return `orch_rg_end=$(( $(date +%s) + ${a.wait_seconds} ))
orch_rg_late=
orch_rg_out=
for orch_rg_pass in away run; do
  for orch_rg_h in $orch_rg_hosts; do
    orch_rg_away=
    ${awayCase(away)}
    if [ -n "$orch_rg_away" ]; then [ "$orch_rg_pass" = away ] || continue
    else [ "$orch_rg_pass" = run ] || continue
    fi
    orch_rg_ok=
    while :; do
      if ${ask}
      then
        orch_rg_why=$(sed -n 1p "$orch_pg_tmp/s")
        if [ "$orch_rg_why" = ok ]; then orch_rg_ok=1; break; fi
      else
        orch_rg_why=$(tr '\\n' ' ' <"$orch_pg_tmp/s.err")
      fi
      [ -z "$orch_rg_away" ] || break
      [ "$(date +%s)" -lt "$orch_rg_end" ] || break
      sleep 2
    done
    if [ -n "$orch_rg_ok" ]; then echo "standby $orch_rg_h runs the new settings"
    elif [ -n "$orch_rg_away" ]; then echo "standby $orch_rg_h (not in this run): $orch_rg_why"; orch_rg_out="$orch_rg_out $orch_rg_h"
    else echo "standby $orch_rg_h: $orch_rg_why"; orch_rg_late="$orch_rg_late $orch_rg_h"
    fi
  done
  # A standby outside the run that lacks the settings fails the gate anyway: the others are not waited for.
  [ -z "$orch_rg_out" ] || orch_rg_end=0
done
if [ -n "$orch_rg_out" ]; then
  echo "not restarting: standby(s)$orch_rg_out, not in this run, do not run the new settings: apply them first, or in the same run as this host; restart pending for: $orch_rg_pending"
  exit 1
fi
if [ -n "$orch_rg_late" ]; then
  echo "not restarting: standby(s)$orch_rg_late did not restart with the new settings within ${a.wait_seconds} s; restart pending for: $orch_rg_pending"
  exit 1
fi`;
}

/** The listed standbys that are not in this run (none when the run's hosts are not known). */
export function standbysAway(
  standbys: Record<string, string>,
  runHosts: readonly string[] | undefined,
): string[] {
  if (!runHosts) return [];
  return Object.keys(standbys).filter((h) => !runHosts.includes(h));
}

export const postgresRestartGate: StateFunction<Args, Prepared> = {
  args,
  reactsToWatch: true,
  prepare(a, ctx) {
    if (Object.keys(a.standbys).length > 0 && !a.replication_user)
      throw new Error('replication_user is required when standbys are listed');
    return { target: resolveTarget(a, ctx.facts) };
  },
  check(_a, p) {
    return checkQuery(p.target, CHECK_SQL);
  },
  interpretCheck(a, _p, out, ctx, watchWouldTrigger) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, 'pending restarts');
    if (early || probe.kind !== 'up') return early!;
    const pending = parseResult<string[]>(probe) ?? [];
    const standbys = Object.keys(a.standbys);
    const away = standbysAway(a.standbys, ctx.runHosts?.());
    const first = standbys.length
      ? `; standbys first: ${standbys.join(', ')}${away.length ? ` (not in this run: ${away.join(', ')})` : ''}`
      : '';
    if (pending.length > 0)
      return {
        status: 'change',
        comment: `restart due for: ${pending.join(', ')}${first}`,
        diff: `restart for ${pending.join(', ')}`,
      };
    if (watchWouldTrigger)
      return { status: 'change', comment: `a settings change may need a restart${first}` };
    return { status: 'clean', comment: 'no setting waits for a restart' };
  },
  apply(a, p, _check, ctx) {
    const t = p.target;
    const away = standbysAway(a.standbys, ctx.runHosts?.());
    return `${psqlSetup(t)}
if [ -z "$orch_pg_psql" ] || ! ${socketPresent(t)}; then echo 'PostgreSQL is not running: no restart to order'; exit 0; fi
if ${psqlHeredoc(t, planSql(a.standbys), 'plan')}then :
else cat "$orch_pg_tmp/plan.err"; echo 'could not read the settings waiting for a restart'; exit 1
fi
orch_rg_pending=$(sed -n 1p "$orch_pg_tmp/plan")
orch_rg_expect=$(sed -n 2p "$orch_pg_tmp/plan")
orch_rg_hosts=$(sed -n '3,$p' "$orch_pg_tmp/plan")
if [ -z "$orch_rg_pending" ]; then echo 'no setting waits for a restart'; exit 0; fi
orch_kv pending_restart "$orch_rg_pending"
${waitBody(a, t, away)}
orch_kv comment "restart due for: $orch_rg_pending"
orch_changed=1`;
  },
  interpretApply(_a, _p, out) {
    return defaultApplyOutcome(out, 'restart order');
  },
};
