// postgres.database: a database's existence and owner (encoding and template apply at creation only; an existing
// database with another encoding is reported as an error, never recreated). Dropping needs `force: true`.
// It never touches schemas, grants or the data inside, and never drops the database it connects to.
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
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
import { pgName } from './role.js';
import { targetArgFields } from './target.js';

const args = z
  .object({
    name: pgName.describe('database name'),
    ensure: z.enum(['present', 'absent']).default('present').describe('whether the database exists'),
    owner: pgName
      .optional()
      .describe('owning role (default: left as it is; a new one is owned by the connecting role)'),
    encoding: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'encoding names are letters, digits, _ and -')
      .optional()
      .describe('encoding of a new database, e.g. UTF8 (an existing one with another is an error)'),
    template: pgName.optional().describe('template database a new database is copied from'),
    /** Required for ensure: absent, which destroys the database and its data. */
    force: z
      .boolean()
      .default(false)
      .describe('confirm ensure: absent, which drops the database and all its data'),
    ...targetArgFields,
  })
  .strict()
  .refine((a) => a.ensure !== 'absent' || a.force, {
    message: 'ensure: absent drops the database and all its data; set force: true to confirm',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
}

interface DbRow {
  owner: string;
  encoding: string;
}

// PostgreSQL accepts aliases (utf-8, Unicode); compare the spelling-insensitive core.
const normEncoding = (e: string): string => {
  const n = e.toUpperCase().replace(/[-_]/g, '');
  return n === 'UNICODE' ? 'UTF8' : n;
};

function createSql(a: Args): string {
  const opts: string[] = [];
  if (a.owner) opts.push(`OWNER ${quoteIdent(a.owner)}`);
  if (a.encoding) opts.push(`ENCODING ${quoteLiteral(a.encoding)}`);
  if (a.template) opts.push(`TEMPLATE ${quoteIdent(a.template)}`);
  return `CREATE DATABASE ${quoteIdent(a.name)}${opts.length ? ` WITH ${opts.join(' ')}` : ''};`;
}

function presentSql(a: Args): string {
  const ownerDiffers = a.owner ? `pg_get_userbyid(datdba) <> ${quoteLiteral(a.owner)}` : 'false';
  const alter = a.owner
    ? `\\elif :orch_owner\nALTER DATABASE ${quoteIdent(a.name)} OWNER TO ${quoteIdent(a.owner)};\n${SQL_CHANGED}\n`
    : '';
  return `SELECT count(*) = 0 AS orch_missing, coalesce(bool_or(${ownerDiffers}), false) AS orch_owner
  FROM pg_database WHERE datname = ${quoteLiteral(a.name)} \\gset
\\if :orch_missing
${createSql(a)}
${SQL_CHANGED}
${alter}\\endif
`;
}

function absentSql(a: Args): string {
  return `SELECT count(*) > 0 AS orch_present FROM pg_database WHERE datname = ${quoteLiteral(a.name)} \\gset
\\if :orch_present
DROP DATABASE ${quoteIdent(a.name)};
${SQL_CHANGED}
\\endif
`;
}

export const postgresDatabase: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const target = resolveTarget(a, ctx.facts);
    if (a.ensure === 'absent' && a.name === target.db) {
      throw new Error(`refusing to drop ${a.name}: it is the database orch connects to (maintenance_db)`);
    }
    return { target };
  },
  check(a, p) {
    const sql = `SELECT coalesce((SELECT json_build_object('owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding))
  FROM pg_database WHERE datname = ${quoteLiteral(a.name)}), 'null'::json);\n`;
    return checkQuery(p.target, sql);
  },
  interpretCheck(a, _p, out) {
    const probe = readProbe(out);
    const early = probeOutcome(probe, `database ${a.name}`);
    if (early || probe.kind !== 'up') return early!;
    const row = parseResult<DbRow>(probe);
    if (a.ensure === 'absent') {
      return row
        ? {
            status: 'change',
            comment: `database ${a.name} would be DROPPED with all its data (force: true)`,
            diff: `- database ${a.name}`,
          }
        : { status: 'clean', comment: `database ${a.name} is absent` };
    }
    if (!row)
      return { status: 'change', comment: `database ${a.name} would be created`, diff: `+ ${createSql(a)}` };
    if (a.encoding && normEncoding(a.encoding) !== normEncoding(row.encoding)) {
      return {
        status: 'error',
        comment: `database ${a.name} exists with encoding ${row.encoding}, not ${a.encoding}; an encoding cannot be changed in place`,
      };
    }
    if (a.owner && a.owner !== row.owner) {
      return {
        status: 'change',
        comment: `database ${a.name} owner would change`,
        diff: `owner: ${row.owner} -> ${a.owner}`,
      };
    }
    return { status: 'clean', comment: `database ${a.name} is in the desired state` };
  },
  apply(a, p) {
    const t = p.target;
    return `${psqlSetup(t)}\n${requireRunning(t)}\n${applySql(t, a.ensure === 'absent' ? absentSql(a) : presentSql(a))}`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `database ${a.name}`);
  },
};
