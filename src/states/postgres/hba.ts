// postgres.hba: the whole pg_hba.conf, from an ordered list of entries (kept in the given order: the first
// matching line wins, so orch never re-sorts) or from a template. Replaced with a backup and validated by the
// running server (pg_hba_file_rules) before pg_reload_conf(); on any error the previous file is restored.
// It manages only that one file; it never edits postgresql.conf or restarts the server.
import { z } from 'zod';
import { GrammarViolation } from '../../render/grammar.js';
import {
  HBA_METHODS,
  HBA_TYPES,
  hbaComment,
  hbaDatabaseWord,
  hbaEntryAddress,
  hbaOptionValue,
  hbaQuotedName,
  hbaUserWord,
} from '../../render/hba-grammar.js';
import { defaultApplyOutcome, modeSchema, osAccount } from '../common.js';
import { probeError } from '../probe.js';
import type { StateFunction } from '../types.js';
import { configFileProbe, fileChanges, readFileState, replaceFileScript } from './conffile.js';
import { psqlHeredoc, psqlSetup } from '../../pg/connector.js';
import { resolveTarget, type PgTarget } from '../../pg/target.js';
import { targetArgFields } from './target.js';

/** A string the given pg_hba.conf grammar function accepts (its reason is the schema's message). */
const hbaText = (fn: (s: string) => string) =>
  z.string().superRefine((s, ctx) => {
    try {
      fn(s);
    } catch (err) {
      if (!(err instanceof GrammarViolation)) throw err;
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)}: ${err.reason}` });
    }
  });
const wordList = (fn: (s: string) => string) => z.union([hbaText(fn), z.array(hbaText(fn)).min(1)]);

const entry = z
  .object({
    type: z.enum(HBA_TYPES),
    /** Keywords (all, sameuser, samerole, samegroup, replication) or literal database names. */
    database: wordList(hbaDatabaseWord),
    /** `all`, `+group` or literal role names. */
    user: wordList(hbaUserWord),
    /** CIDR, host name, samehost/samenet, or "address netmask"; required for host* types, refused for local. */
    address: hbaText(hbaEntryAddress).optional(),
    method: z.enum(HBA_METHODS),
    options: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'option names are identifiers'),
        z.union([hbaText(hbaOptionValue), z.number(), z.boolean()]),
      )
      .optional(),
    /** A comment written above the entry (one comment line per line of text). */
    comment: z
      .string()
      .superRefine((c, ctx) => {
        for (const line of c.split('\n')) {
          try {
            hbaComment(line);
          } catch (err) {
            if (!(err instanceof GrammarViolation)) throw err;
            ctx.addIssue({ code: 'custom', message: err.reason });
          }
        }
      })
      .optional(),
  })
  .strict()
  .refine((e) => (e.type === 'local') === (e.address === undefined), {
    message: 'host* entries need an address; local entries take none',
  });
type Entry = z.infer<typeof entry>;

const args = z
  .object({
    /** Path of pg_hba.conf; a name that is not an absolute path means the cluster's own (from facts). */
    name: z
      .string()
      .min(1)
      .describe("path of pg_hba.conf; a name that is not an absolute path means the cluster's own"),
    entries: z.array(entry).optional().describe('the rules as a list (or give source)'),
    source: z.string().optional().describe('template under templates/ rendering the file (or give entries)'),
    context: z.record(z.string(), z.unknown()).optional().describe('extra template variables for source'),
    user: osAccount.optional().describe('owner (default: left as it is; a new file: the PostgreSQL OS user)'),
    group: osAccount.optional().describe('group (default: left as it is)'),
    mode: modeSchema
      .optional()
      .describe("octal mode as a quoted string (default: left as it is; a new file: '0640')"),
    ...targetArgFields,
  })
  .strict()
  .refine((a) => (a.entries === undefined) !== (a.source === undefined), {
    message: 'give exactly one of entries (a list) or source (a template)',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
  file: string;
  content: string;
}

/** One literal pg_hba.conf name token (double-quoted when needed); what a quoted token cannot hold is refused. */
export function hbaToken(s: string): string {
  try {
    return hbaQuotedName(s);
  } catch (err) {
    throw err instanceof GrammarViolation ? new Error(`${JSON.stringify(s)} ${err.reason}`) : err;
  }
}

const tokenList = (v: string | string[], fn: (s: string) => string): string =>
  (Array.isArray(v) ? v : [v]).map(fn).join(',');

function optionText(k: string, v: string | number | boolean): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid pg_hba option name ${JSON.stringify(k)}`);
  return `${k}=${hbaOptionValue(String(v))}`;
}

/** The pg_hba.conf text for entries, in the given order, columns aligned. */
export function renderHba(entries: Entry[]): string {
  const rows = entries.map((e) => {
    const address = e.address === undefined ? '' : hbaEntryAddress(e.address);
    const opts = Object.entries(e.options ?? {}).map(([k, v]) => optionText(k, v));
    const cols = [
      e.type,
      tokenList(e.database, hbaDatabaseWord),
      tokenList(e.user, hbaUserWord),
      address,
      [e.method, ...opts].join(' '),
    ];
    return { comment: e.comment, cols };
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r.cols[i]!.length), 0));
  const lines = [
    '# Managed by orch (postgres.hba): local edits are overwritten.',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
  ];
  for (const r of rows) {
    if (r.comment !== undefined)
      for (const c of r.comment.split('\n')) lines.push(`# ${hbaComment(c)}`.trimEnd());
    lines.push(
      r.cols
        .map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c))
        .join('  ')
        .trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

// PostgreSQL parses the file on disk when the view is read, so this sees exactly what a reload would load.
const VALIDATE_SQL = `SELECT 'orch:fail:pg_hba.conf line ' || line_number || ': ' || translate(error, chr(10) || chr(13), '  ')
  FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number;
`;
const RELOAD_SQL = `SELECT 'orch:say:configuration reloaded' FROM pg_reload_conf();\n`;

/** Shell: fail unless the file is the running server's hba_file (validation only works on the live file). */
function liveFileGuard(t: PgTarget): string {
  return `if ${psqlHeredoc(t, `SELECT current_setting('hba_file');\n`, 'live')}then :; else cat "$orch_pg_tmp/live.err"; exit 1; fi
orch_live=$(cat "$orch_pg_tmp/live")
if [ ! "$orch_cf" -ef "$orch_live" ]; then echo "$orch_cf is not the server's hba_file ($orch_live); it cannot be validated"; exit 1; fi`;
}

export const postgresHba: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const target = resolveTarget(a, ctx.facts);
    let file = a.name;
    if (!file.startsWith('/')) {
      if (!target.confDir)
        throw new Error(
          "name is not a path and the cluster's configuration directory is unknown; give name: /path/to/pg_hba.conf",
        );
      file = `${target.confDir}/pg_hba.conf`;
    }
    const content = a.entries ? renderHba(a.entries) : ctx.renderTemplate(a.source!, a.context ?? {});
    return { target, file, content };
  },
  check(_a, p) {
    return configFileProbe(p.file, p.content);
  },
  // The file probe sets variables only (as file.managed's).
  inlineCheck: true,
  interpretCheck(a, p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${p.file}: ${out.text}` };
    const read = readFileState(out, true);
    if (!read.ok) return probeError(p.file, read.error);
    const s = read.kv;
    if (s.exists === 'other')
      return { status: 'error', comment: `${p.file} exists and is not a regular file` };
    if (s.exists === 'none' && !s.parent)
      return { status: 'error', comment: `the directory of ${p.file} does not exist` };
    const { changes, diff } = fileChanges(p.file, s, p.content, a);
    if (changes.length === 0) return { status: 'clean', comment: `${p.file} is in the desired state` };
    return {
      status: 'change',
      comment: `${p.file} would be updated (validated before reload): ${changes.join('; ')}`,
      diff: diff ?? changes.join('\n'),
    };
  },
  apply(a, p) {
    const t = p.target;
    const body = replaceFileScript({
      file: p.file,
      content: p.content,
      own: a,
      newOwner: t.osUser,
      newMode: '0640',
      target: t,
      preWrite: liveFileGuard(t),
      validateSql: VALIDATE_SQL,
      afterSql: RELOAD_SQL,
    });
    return `${psqlSetup(t)}\n${body}`;
  },
  interpretApply(_a, p, out) {
    const r = defaultApplyOutcome(out, p.file);
    if (r.changed && out.kv.unvalidated === '1')
      r.comment = `${p.file} written; not validated or reloaded (PostgreSQL is not running)`;
    else if (r.changed) r.comment = `${p.file} updated, validated and reloaded`;
    return r;
  },
};
