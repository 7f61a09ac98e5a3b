// postgres.rewind_grants: the role (the formula's replication role) may be pg_rewind's source user on this primary:
// EXECUTE on the four functions pg_rewind calls (PostgreSQL 11+; a superuser needs none). Run on the primary, the
// grants replicate to every standby, so a promoted standby has them too and `orch pg rejoin` never has to add them.
// It only ever grants; it never revokes.
import { z } from 'zod';
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
import { REWIND_FUNCTIONS } from '../../pg/lifecycle/rewind.js';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { defaultApplyOutcome } from '../common.js';
import type { StateFunction } from '../types.js';
import { probeOutcome } from './probe-outcome.js';
import { pgName } from './role.js';
import { targetArgFields } from './target.js';

const args = z
  .object({
    name: z.string().optional().describe('a label for the state'),
    role: pgName.describe('the role pg_rewind connects to the primary as (the replication role)'),
    ...targetArgFields,
  })
  .strict();
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
}

const missingSql = (role: string, fn: string) =>
  `NOT has_function_privilege(${quoteLiteral(role)}, ${quoteLiteral(fn)}, 'EXECUTE')`;

export const postgresRewindGrants: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    return { target: resolveTarget(a, ctx.facts) };
  },
  check(a, p) {
    // A role that does not exist yet has no privileges to ask about: 'null', not an error.
    const items = REWIND_FUNCTIONS.map(
      (f) => `CASE WHEN ${missingSql(a.role, f)} THEN ${quoteLiteral(f)} END`,
    );
    const sql = `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(a.role)})
  THEN to_json(array_remove(ARRAY[${items.join(', ')}]::text[], NULL)) ELSE 'null'::json END;\n`;
    return checkQuery(p.target, sql);
  },
  interpretCheck(a, _p, out) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, `the pg_rewind grants of ${a.role}`);
    if (early || probe.kind !== 'up') return early!;
    const missing = parseResult<string[] | null>(probe);
    if (missing === null)
      return {
        status: 'change',
        comment: `role ${a.role} does not exist yet; it would get the pg_rewind grants`,
      };
    if (missing.length === 0)
      return { status: 'clean', comment: `${a.role} may run pg_rewind against this server` };
    return {
      status: 'change',
      comment: `${a.role} would be granted EXECUTE on ${missing.length} function(s) pg_rewind calls`,
      diff: missing.map((f) => `+ GRANT EXECUTE ON FUNCTION ${f} TO ${quoteIdent(a.role)}`).join('\n'),
    };
  },
  apply(a, p) {
    const t = p.target;
    const sql = REWIND_FUNCTIONS.map(
      (f) => `SELECT ${missingSql(a.role, f)} AS orch_missing \\gset
\\if :orch_missing
GRANT EXECUTE ON FUNCTION ${f} TO ${quoteIdent(a.role)};
${SQL_CHANGED}
\\endif
`,
    ).join('');
    return `${psqlSetup(t)}\n${requireRunning(t)}\n${applySql(t, sql)}`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `the pg_rewind grants of ${a.role}`);
  },
};
