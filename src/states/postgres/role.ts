// postgres.role: a role's existence, attributes (login, replication, superuser, createdb, createrole, inherit,
// connection limit) and SCRAM password. Only the attributes given are managed; others are left as they are.
// Passwords are compared by recomputing the stored SCRAM verifier on the controller, and only a verifier computed
// on the controller is ever sent, so the plaintext reaches neither the host, its process list nor its logs.
// It never touches grants, memberships, or objects the role owns; it refuses to drop the connected role or postgres.
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { parseVerifier, scramVerifier, verifierMatches } from '../../sql/scram.js';
import { redactor } from '../../secrets/redactor.js';
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
  SQL_QUIET_LOGS,
  sqlFail,
} from '../../pg/connector.js';
import { resolveTarget, type PgTarget } from '../../pg/target.js';
import { probeOutcome } from './probe-outcome.js';
import { targetArgFields } from './target.js';

/** PostgreSQL truncates identifiers to NAMEDATALEN-1 bytes; a longer name would never match on re-check. */
export const pgName = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 63, 'names are at most 63 bytes in PostgreSQL')
  .refine((s) => !s.includes('\0'), 'names cannot contain NUL');

const ATTRS = {
  login: ['rolcanlogin', 'LOGIN'],
  replication: ['rolreplication', 'REPLICATION'],
  superuser: ['rolsuper', 'SUPERUSER'],
  createdb: ['rolcreatedb', 'CREATEDB'],
  createrole: ['rolcreaterole', 'CREATEROLE'],
  inherit: ['rolinherit', 'INHERIT'],
} as const;
type AttrName = keyof typeof ATTRS;
const ATTR_NAMES = Object.keys(ATTRS) as AttrName[];

const args = z
  .object({
    name: pgName.describe('role name'),
    ensure: z.enum(['present', 'absent']).default('present').describe('whether the role exists'),
    login: z.boolean().optional().describe('LOGIN attribute (default: left as it is)'),
    replication: z.boolean().optional().describe('REPLICATION attribute (default: left as it is)'),
    superuser: z.boolean().optional().describe('SUPERUSER attribute (default: left as it is)'),
    createdb: z.boolean().optional().describe('CREATEDB attribute (default: left as it is)'),
    createrole: z.boolean().optional().describe('CREATEROLE attribute (default: left as it is)'),
    inherit: z.boolean().optional().describe('INHERIT attribute (default: left as it is)'),
    connection_limit: z
      .number()
      .int()
      .min(-1)
      .optional()
      .describe('CONNECTION LIMIT, -1 for none (default: left as it is)'),
    /** Plaintext (from pillar); used on the controller only. */
    password: z
      .string()
      .min(1)
      .optional()
      .describe('plaintext password (from pillar), sent only as a SCRAM-SHA-256 verifier'),
    /** A ready SCRAM-SHA-256 verifier, sent as is. */
    password_verifier: z
      .string()
      .refine(
        (v) => parseVerifier(v) !== null,
        'password_verifier must be a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iter>:<salt>$<key>:<key>)',
      )
      .optional()
      .describe('a ready SCRAM-SHA-256 verifier, sent as is (or give password)'),
    ...targetArgFields,
  })
  .strict()
  .refine((a) => !(a.password !== undefined && a.password_verifier !== undefined), {
    message: 'give at most one of password or password_verifier',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
  /** The verifier apply sends when the password must be (re)set: fresh salt for a plaintext, or the given one. */
  verifier?: string;
}

/** What the check query returns for an existing role. */
interface RoleRow {
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolinherit: boolean;
  rolconnlimit: number;
  rolpassword?: string | null;
}

interface Plan {
  /** The stored verifier the check found correct; apply leaves the password alone while it is still stored. */
  verifiedPassword?: string;
}

const managesPassword = (a: Args): boolean => a.password !== undefined || a.password_verifier !== undefined;

/** Roles this module will not drop: the bootstrap superuser and the role it connects as. */
function protectedRole(a: Args, t: PgTarget): boolean {
  return a.name === 'postgres' || a.name === (t.dbUser ?? t.osUser);
}

function checkSql(a: Args): string {
  // rolpassword is only visible in pg_authid, which needs superuser; without a password to manage, pg_roles will do.
  const table = managesPassword(a) ? 'pg_authid' : 'pg_roles';
  const cols = [
    'rolcanlogin',
    'rolreplication',
    'rolsuper',
    'rolcreatedb',
    'rolcreaterole',
    'rolinherit',
    'rolconnlimit',
  ];
  if (managesPassword(a)) cols.push('rolpassword');
  const obj = cols.map((c) => `'${c}', ${c}`).join(', ');
  return `SELECT coalesce((SELECT json_build_object(${obj}) FROM ${table} WHERE rolname = ${quoteLiteral(a.name)}), 'null'::json);\n`;
}

/** Why the stored password is not the desired one, or null when it is. */
function passwordProblem(a: Args, stored: string | null | undefined): string | null {
  if (!managesPassword(a)) return null;
  if (a.password_verifier !== undefined)
    return stored === a.password_verifier ? null : 'password verifier differs';
  if (!stored) return 'no password set';
  if (stored.startsWith('md5')) return 'password stored as md5; would store a SCRAM-SHA-256 verifier';
  if (!parseVerifier(stored)) return 'stored password is not a SCRAM-SHA-256 verifier';
  return verifierMatches(stored, a.password!) ? null : 'password differs';
}

function attrChanges(a: Args, row: RoleRow): string[] {
  const changes: string[] = [];
  for (const n of ATTR_NAMES) {
    const want = a[n];
    const have = row[ATTRS[n][0]];
    if (want !== undefined && want !== have) changes.push(`${n}: ${String(have)} -> ${String(want)}`);
  }
  if (a.connection_limit !== undefined && a.connection_limit !== row.rolconnlimit) {
    changes.push(`connection_limit: ${row.rolconnlimit} -> ${a.connection_limit}`);
  }
  return changes;
}

/** `LOGIN NOREPLICATION CONNECTION LIMIT 3` for the attributes given. */
function roleOptions(a: Args): string {
  const opts = ATTR_NAMES.filter((n) => a[n] !== undefined).map((n) => `${a[n] ? '' : 'NO'}${ATTRS[n][1]}`);
  if (a.connection_limit !== undefined) opts.push(`CONNECTION LIMIT ${a.connection_limit}`);
  return opts.join(' ');
}

/** SQL condition over a pg_authid/pg_roles row: some managed attribute differs. */
function attrsDifferSql(a: Args): string {
  const terms = ATTR_NAMES.filter((n) => a[n] !== undefined).map(
    (n) => `${ATTRS[n][0]} IS DISTINCT FROM ${a[n]}`,
  );
  if (a.connection_limit !== undefined) terms.push(`rolconnlimit IS DISTINCT FROM ${a.connection_limit}`);
  return terms.length ? terms.join(' OR ') : 'false';
}

function presentSql(a: Args, p: Prepared, plan: Plan | undefined): string {
  const ident = quoteIdent(a.name);
  const table = managesPassword(a) ? 'pg_authid' : 'pg_roles';
  let pwDiffers = 'false';
  if (p.verifier !== undefined) {
    const keep = a.password_verifier ?? plan?.verifiedPassword;
    pwDiffers = keep !== undefined ? `rolpassword IS DISTINCT FROM ${quoteLiteral(keep)}` : 'true';
  }
  const opts = roleOptions(a);
  const password = p.verifier !== undefined ? ` PASSWORD ${quoteLiteral(p.verifier)}` : '';
  const alterAttrs = opts
    ? `\\if :orch_attrs\nALTER ROLE ${ident} WITH ${opts};\n${SQL_CHANGED}\n\\endif\n`
    : '';
  const alterPw = password ? `\\if :orch_pw\nALTER ROLE ${ident}${password};\n${SQL_CHANGED}\n\\endif\n` : '';
  return `${SQL_QUIET_LOGS}
SELECT count(*) = 0 AS orch_missing,
  coalesce(bool_or(${attrsDifferSql(a)}), false) AS orch_attrs,
  coalesce(bool_or(${pwDiffers}), false) AS orch_pw
  FROM ${table} WHERE rolname = ${quoteLiteral(a.name)} \\gset
\\if :orch_missing
CREATE ROLE ${ident}${opts ? ` WITH ${opts}` : ''}${password};
${SQL_CHANGED}
\\else
${alterAttrs}${alterPw}\\endif
`;
}

function absentSql(a: Args): string {
  return `SELECT count(*) > 0 AS orch_present,
  coalesce(bool_or(rolname = current_user OR rolname = 'postgres' OR oid = 10), false) AS orch_protected
  FROM pg_roles WHERE rolname = ${quoteLiteral(a.name)} \\gset
\\if :orch_protected
${sqlFail('refusing to drop the connected role or the bootstrap superuser')}
\\elif :orch_present
DROP ROLE ${quoteIdent(a.name)};
${SQL_CHANGED}
\\endif
`;
}

export const postgresRole: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const target = resolveTarget(a, ctx.facts);
    const p: Prepared = { target };
    if (a.password !== undefined) {
      // Defensive: a password written inline (not from encrypted pillar) is masked too.
      if (a.password.length >= 4) redactor.add(a.password);
      p.verifier = scramVerifier(a.password);
    } else if (a.password_verifier !== undefined) p.verifier = a.password_verifier;
    return p;
  },
  check(a, p) {
    return checkQuery(p.target, checkSql(a));
  },
  interpretCheck(a, p, out) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, `role ${a.name}`);
    if (early || probe.kind !== 'up') return early!;
    const row = parseResult<RoleRow>(probe);
    if (a.ensure === 'absent') {
      if (!row) return { status: 'clean', comment: `role ${a.name} is absent` };
      if (protectedRole(a, p.target)) return { status: 'error', comment: `refusing to drop role ${a.name}` };
      return { status: 'change', comment: `role ${a.name} would be dropped`, diff: `- role ${a.name}` };
    }
    if (!row) {
      const opts = roleOptions(a);
      const pw = managesPassword(a) ? ' with a password' : '';
      return {
        status: 'change',
        comment: `role ${a.name} would be created${opts ? ` (${opts})` : ''}${pw}`,
        diff: `+ role ${a.name}`,
      };
    }
    const changes = attrChanges(a, row);
    const pwProblem = passwordProblem(a, row.rolpassword);
    if (pwProblem) changes.push(pwProblem);
    const plan: Plan = {};
    if (managesPassword(a) && !pwProblem && row.rolpassword) plan.verifiedPassword = row.rolpassword;
    if (changes.length === 0)
      return { status: 'clean', comment: `role ${a.name} is in the desired state`, plan };
    return {
      status: 'change',
      comment: `role ${a.name} would be altered: ${changes.join('; ')}`,
      diff: changes.join('\n'),
      plan,
    };
  },
  apply(a, p, check) {
    const t = p.target;
    if (a.ensure === 'absent' && protectedRole(a, t)) return `echo ${"'refusing to drop this role'"}; exit 1`;
    const sql = a.ensure === 'absent' ? absentSql(a) : presentSql(a, p, check.plan as Plan | undefined);
    return `${psqlSetup(t)}\n${requireRunning(t)}\n${applySql(t, sql)}`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `role ${a.name}`);
  },
};
