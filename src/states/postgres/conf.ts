// postgres.conf: server settings, version-aware. Three forms, chosen by the arguments and the file name:
// - settings into an include file (e.g. conf.d/orch.conf, or a bare name -> <confDir>/conf.d/<name>.conf): orch
//   owns the whole file and writes exactly the settings given;
// - settings into postgresql.conf itself: only the named settings' lines are replaced (later duplicates commented
//   out, missing ones appended); every other line is kept;
// - source, a template under templates/ rendered per host (pillar, facts, vars, context and pg_version, the
//   cluster's major version): the rendered text is the whole file. Every line must be blank, a comment or one
//   setting (a template puts pillar values in with the pg_setting and pg_value filters); include directives only
//   in postgresql.conf itself, never in an include file; a setting named twice is refused. The version rules
//   apply to the rendered settings, line by line.
// The new file is validated by the running server (pg_file_settings) and restored on error, then the server is
// reloaded and settings waiting for a restart are reported (kv pending_restart). On 13+ wal_keep_segments (which
// would stop the server from starting) is translated to wal_keep_size and never written; before 13 wal_keep_size
// becomes wal_keep_segments and max_slot_wal_keep_size is left out. It never restarts the server and never touches
// postgresql.auto.conf (ALTER SYSTEM's file).
import path from 'node:path';
import { z } from 'zod';
import { quoteLiteral } from '../../sql/quote.js';
import { GrammarViolation } from '../../render/grammar.js';
import {
  ConfSyntaxError,
  confValue,
  parseConfText,
  pgSettingName,
  type ConfScalar,
} from '../../render/pgconf-grammar.js';
import { redactor } from '../../secrets/redactor.js';
import { defaultApplyOutcome, modeSchema, osAccount } from '../common.js';
import { probeError } from '../probe.js';
import type { CheckOutcome, StateFunction } from '../types.js';
import { configFileProbe, fileChanges, readFileState, replaceFileScript } from './conffile.js';
import { psqlSetup } from '../../pg/connector.js';
import { versionNumber, resolveTarget, type PgTarget } from '../../pg/target.js';
import { targetArgFields } from './target.js';

type Value = ConfScalar;
export { confValue };

/** Zod refinement from a grammar check: its GrammarViolation reason is the schema's message. */
const grammar =
  (fn: (text: string) => unknown) =>
  (v: string, ctx: z.RefinementCtx): void => {
    try {
      fn(v);
    } catch (err) {
      if (!(err instanceof GrammarViolation)) throw err;
      ctx.addIssue({ code: 'custom', message: err.reason });
    }
  };

/** A setting name: an identifier (or a two-part custom name), and not an include directive. */
export const settingName = z.string().superRefine(grammar(pgSettingName));

/** A setting value the configuration file can hold literally: one line, no NUL, finite numbers. */
const settingValue = z.union([
  z.string().superRefine(grammar(confValue)),
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z.boolean(),
]);
/** MB per WAL segment in a default build (the translation assumes it). */
const SEGMENT_MB = 16;

const args = z
  .object({
    /** Absolute path of an include file or of postgresql.conf; a bare name means <confDir>/conf.d/<name>.conf. */
    name: z
      .string()
      .min(1)
      .describe(
        'an include file or postgresql.conf (absolute path); a bare name means <confDir>/conf.d/<name>.conf',
      ),
    settings: z
      .record(settingName, settingValue)
      .optional()
      .describe('setting name -> value (or give source)'),
    source: z
      .string()
      .optional()
      .describe('template under templates/ rendering the whole file (or give settings)'),
    context: z.record(z.string(), z.unknown()).optional().describe('extra template variables for source'),
    user: osAccount.optional().describe('owner (default: left as it is; a new file: the PostgreSQL OS user)'),
    group: osAccount.optional().describe('group (default: left as it is)'),
    mode: modeSchema
      .optional()
      .describe("octal mode as a quoted string (default: left as it is; a new file: '0644')"),
    ...targetArgFields,
  })
  .strict()
  .refine((a) => (a.settings === undefined) !== (a.source === undefined), {
    message: 'give exactly one of settings (a map) or source (a template)',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  target: PgTarget;
  file: string;
  /** postgresql.conf itself: edit lines instead of owning the file. */
  edit: boolean;
  /** Settings to write, in order, after version translation. */
  settings: [string, Value][];
  /** Setting names whose active lines are commented out (edit form). */
  remove: string[];
  notes: string[];
  /** The whole file (include form, template form). */
  content?: string;
  /** The content holds a secret: no diff is shown. */
  sensitive: boolean;
}

interface Plan {
  content: string;
  /** sha256 of the file the check read (edit form), so apply refuses to edit a file changed since. */
  sha: string;
}

/** The value text of a setting line as PostgreSQL reads it (quotes and escapes resolved), or null. */
export function parseConfLine(line: string): { name: string; value: string } | null {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return null;
  const rest = m[2]!;
  if (!rest.startsWith("'")) return { name: m[1]!.toLowerCase(), value: /^[^\s#]*/.exec(rest)![0] };
  let out = '';
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\' && i + 1 < rest.length) out += rest[++i];
    else if (c === "'" && rest[i + 1] === "'") out += rest[i++];
    else if (c === "'") return { name: m[1]!.toLowerCase(), value: out };
    else out += c;
  }
  return null;
}

const BOOL: Record<string, boolean> = {
  on: true,
  off: false,
  true: true,
  false: false,
  yes: true,
  no: false,
  '1': true,
  '0': false,
};

function sameValue(have: string, want: Value): boolean {
  if (typeof want === 'boolean') return BOOL[have.toLowerCase()] === want;
  return have === String(want);
}

const HEADER = '# Managed by orch (postgres.conf)';

/** postgresql.conf with the given settings' lines replaced or appended and `remove` names commented out. */
export function editConf(old: string, settings: [string, Value][], remove: string[]): string {
  const want = new Map(settings.map(([k, v]) => [k.toLowerCase(), { key: k, value: v }]));
  const drop = new Set(remove.map((r) => r.toLowerCase()));
  const seen = new Set<string>();
  const lines = old.replace(/\n$/, '').split('\n');
  const out = lines.map((line) => {
    const parsed = parseConfLine(line);
    if (!parsed) return line;
    if (drop.has(parsed.name)) return `# orch: removed, not valid for this PostgreSQL version: ${line}`;
    const w = want.get(parsed.name);
    if (!w) return line;
    if (seen.has(parsed.name)) return `# orch: superseded by an earlier line: ${line}`;
    seen.add(parsed.name);
    return sameValue(parsed.value, w.value) ? line : `${w.key} = ${confValue(w.value)}`;
  });
  const missing = [...want.entries()]
    .filter(([k]) => !seen.has(k))
    .map(([, w]) => `${w.key} = ${confValue(w.value)}`);
  if (missing.length) {
    if (!out.includes(HEADER)) out.push('', HEADER);
    out.push(...missing);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Apply the version rules: on 13+ translate wal_keep_segments to wal_keep_size, before 13 the other way round and
 * leave out max_slot_wal_keep_size; refuse what cannot be translated.
 */
export function versionSettings(
  given: Record<string, Value>,
  version: number | undefined,
): { settings: [string, Value][]; remove: string[]; notes: string[] } {
  const notes: string[] = [];
  const remove: string[] = [];
  const settings: [string, Value][] = [];
  const has = (k: string) => Object.keys(given).some((g) => g.toLowerCase() === k);
  for (const [k, v] of Object.entries(given)) {
    const key = k.toLowerCase();
    if (key === 'wal_keep_segments' && version !== undefined && version >= 13) {
      if (has('wal_keep_size')) {
        throw new Error(
          'wal_keep_segments does not exist in PostgreSQL 13+ and wal_keep_size is also given; remove wal_keep_segments',
        );
      }
      const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(
          `wal_keep_segments does not exist in PostgreSQL 13+ and ${JSON.stringify(v)} cannot be translated; use wal_keep_size`,
        );
      }
      const size = `${n * SEGMENT_MB}MB`;
      settings.push(['wal_keep_size', size]);
      notes.push(
        `wal_keep_segments = ${n} translated to wal_keep_size = '${size}' (PostgreSQL ${version} has no wal_keep_segments)`,
      );
      continue;
    }
    if (key === 'wal_keep_size' && version !== undefined && version < 13) {
      if (has('wal_keep_segments')) {
        throw new Error(
          'wal_keep_size does not exist before PostgreSQL 13 and wal_keep_segments is also given; remove one',
        );
      }
      const mb = sizeInMb(v);
      if (mb === undefined) {
        throw new Error(
          `wal_keep_size needs PostgreSQL 13+ and ${JSON.stringify(v)} cannot be translated; use wal_keep_segments`,
        );
      }
      const n = Math.ceil(mb / SEGMENT_MB);
      settings.push(['wal_keep_segments', n]);
      notes.push(
        `wal_keep_size = ${JSON.stringify(v)} translated to wal_keep_segments = ${n} (PostgreSQL ${version})`,
      );
      continue;
    }
    if (key === 'max_slot_wal_keep_size' && version !== undefined && version < 13) {
      notes.push(
        `max_slot_wal_keep_size is not set: PostgreSQL ${version} has no cap on WAL kept for slots (13+)`,
      );
      continue;
    }
    settings.push([k, v]);
  }
  if (version !== undefined && version >= 13) remove.push('wal_keep_segments');
  return { settings, remove, notes };
}

/** A size setting in MB: a bare number is MB (PostgreSQL's unit for these), or a string with kB/MB/GB/TB. */
function sizeInMb(v: Value): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+)\s*(kB|MB|GB|TB)?\s*$/.exec(String(v));
  if (!m) return undefined;
  const factor = { kB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 }[m[2] ?? 'MB']!;
  return Number(m[1]) * factor;
}

/**
 * A rendered template as the file to write: each line checked against the file grammar (one setting per line,
 * directives only where allowed, no setting twice) and the version rules applied to its settings in place (a
 * translated line says so in a trailing comment, a left-out one is commented out).
 */
export function templateFile(
  text: string,
  version: number | undefined,
  opts: { directives: boolean; what: string },
): { content: string; settings: [string, Value][]; notes: string[] } {
  let lines;
  try {
    lines = parseConfText(text);
  } catch (err) {
    if (!(err instanceof ConfSyntaxError)) throw err;
    throw new Error(`${opts.what} rendered a line that is not a setting: ${err.message}`);
  }
  const given: Record<string, string> = {};
  const firstLine = new Map<string, number>();
  lines.forEach((l, i) => {
    if (l.kind === 'other') return;
    if (l.kind === 'directive' && !opts.directives)
      throw new Error(
        `${opts.what} line ${i + 1}: ${l.name} in an include file; only postgresql.conf itself may include files`,
      );
    if (l.kind !== 'setting') return;
    const seen = firstLine.get(l.name);
    if (seen !== undefined)
      throw new Error(
        `${opts.what} sets ${l.name} twice (lines ${seen} and ${i + 1}); the later one would win`,
      );
    firstLine.set(l.name, i + 1);
    given[l.name] = l.value;
  });
  // The whole set first: it refuses a pair of settings that cannot both be translated (and gives the notes).
  const { settings, notes } = versionSettings(given, version);
  const out = lines.map((l) => {
    if (l.kind !== 'setting') return l.text;
    const [to] = versionSettings({ [l.name]: l.value }, version).settings;
    if (!to) return `# orch: left out, PostgreSQL ${version} does not have it: ${l.text}`;
    if (to[0] === l.name) return l.text;
    return `${to[0]} = ${confValue(to[1])}  # orch: translated from ${l.name} for PostgreSQL ${version}`;
  });
  return { content: `${out.join('\n')}\n`, settings, notes };
}

export function includeContent(settings: [string, Value][]): string {
  const lines = settings.map(([k, v]) => `${k} = ${confValue(v)}`);
  return `${HEADER}: local edits are overwritten.\n${lines.join('\n')}\n`;
}

// Every value printed on a marker line is made one line: a file name in a postgres-writable conf.d could hold a
// newline and forge the next marker (orch_pg_markers reads line by line).
const ONE_LINE = (expr: string): string => `translate(${expr}, chr(10) || chr(13), '  ')`;

const VALIDATE_SQL = `SELECT 'orch:fail:' || coalesce(${ONE_LINE('f.sourcefile')}, '?') || ' line ' || coalesce(f.sourceline::text, '?') || ': '
    || coalesce(${ONE_LINE('f.name')} || ': ', '') || ${ONE_LINE('f.error')}
  FROM pg_file_settings f LEFT JOIN pg_settings s ON s.name = f.name
  WHERE f.error IS NOT NULL AND NOT (f.error = 'setting could not be applied' AND s.context = 'postmaster');
`;

function afterSql(file: string, names: string[]): string {
  const list = names.map((n) => quoteLiteral(n.toLowerCase())).join(', ');
  // The reload is processed by this backend before its next statement, so pending_restart is current after the pause.
  return `SELECT 'orch:say:configuration reloaded' FROM pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT 'orch:kv:pending_restart=' || coalesce(string_agg(name, ',' ORDER BY name), '') FROM pg_settings WHERE pending_restart;
SELECT 'orch:say:note: ' || name || ' comes from ' || ${ONE_LINE('sourcefile')} || ', which overrides this file'
  FROM pg_settings WHERE name IN (${list}) AND sourcefile IS NOT NULL AND sourcefile <> ${quoteLiteral(file)};
`;
}

function withNotes(o: CheckOutcome, notes: string[]): CheckOutcome {
  return notes.length ? { ...o, comment: `${o.comment} (${notes.join('; ')})` } : o;
}

export const postgresConf: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const target = resolveTarget(a, ctx.facts);
    let file = a.name;
    if (!file.startsWith('/')) {
      if (!/^[A-Za-z0-9_-]+$/.test(file))
        throw new Error('name must be an absolute path or a plain name for conf.d/<name>.conf');
      if (!target.confDir)
        throw new Error("the cluster's configuration directory is unknown; give name as an absolute path");
      file = `${target.confDir}/conf.d/${file}.conf`;
    }
    const base = path.posix.basename(file);
    if (base === 'postgresql.auto.conf')
      throw new Error('postgresql.auto.conf belongs to ALTER SYSTEM; manage an include file instead');
    const version = versionNumber(target);
    const isMain = base === 'postgresql.conf';
    if (a.source !== undefined) {
      const text = ctx.renderTemplate(a.source, { ...a.context, pg_version: version ?? null });
      const t = templateFile(text, version, { directives: isMain, what: `templates/${a.source}` });
      const sensitive = redactor.redact(t.content) !== t.content;
      return {
        target,
        file,
        edit: false,
        settings: t.settings,
        remove: [],
        notes: t.notes,
        content: t.content,
        sensitive,
      };
    }
    if (Object.keys(a.settings!).length === 0) throw new Error('settings is empty');
    const { settings, remove, notes } = versionSettings(a.settings!, version);
    const p: Prepared = { target, file, edit: isMain, settings, remove, notes, sensitive: false };
    if (!isMain) p.content = includeContent(settings);
    return p;
  },
  check(_a, p) {
    // An include file is compared with what orch writes; postgresql.conf itself is edited, so its content is read.
    return configFileProbe(p.file, p.edit ? undefined : p.content);
  },
  // The file probe sets variables only (as file.managed's).
  inlineCheck: true,
  interpretCheck(a, p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${p.file}: ${out.text}` };
    const read = readFileState(out, !p.edit);
    if (!read.ok) return probeError(p.file, read.error);
    const s = read.kv;
    if (s.exists === 'other')
      return { status: 'error', comment: `${p.file} exists and is not a regular file` };
    let content = p.content;
    if (p.edit) {
      if (s.exists === 'none')
        return { status: 'error', comment: `${p.file} does not exist; refusing to create a postgresql.conf` };
      if (s.content === undefined) return { status: 'error', comment: `${p.file} is too large to edit` };
      content = editConf(s.content, p.settings, p.remove);
    } else if (s.exists === 'none' && !s.parent) {
      return {
        status: 'error',
        comment: `the directory of ${p.file} does not exist (is include_dir = 'conf.d' set?)`,
      };
    }
    const plan: Plan = { content: content!, sha: s.sha256 ?? '' };
    const { changes, diff } = fileChanges(p.file, s, content!, a);
    if (changes.length === 0)
      return withNotes({ status: 'clean', comment: `${p.file} is in the desired state`, plan }, p.notes);
    return withNotes(
      {
        status: 'change',
        comment: `${p.file} would be updated: ${changes.join('; ')}`,
        // The host's copy may hold a secret orch no longer knows (an old one), so neither side is shown.
        diff: p.sensitive
          ? 'content differs (not shown: the file holds a secret)'
          : (diff ?? changes.join('\n')),
        plan,
      },
      p.notes,
    );
  },
  apply(a, p, check) {
    const t = p.target;
    const plan = check.plan as Plan | undefined;
    if (p.edit && !plan)
      return `echo ${"'postgresql.conf could not be read by the check; nothing done'"}; exit 1`;
    const body = replaceFileScript({
      file: p.file,
      content: p.edit ? plan!.content : p.content!,
      own: a,
      newOwner: t.osUser,
      newMode: '0644',
      ...(p.edit ? { expectSha: plan!.sha } : {}),
      target: t,
      validateSql: VALIDATE_SQL,
      afterSql: afterSql(
        p.file,
        p.settings.map(([k]) => k),
      ),
    });
    return `${psqlSetup(t)}\n${body}`;
  },
  interpretApply(_a, p, out) {
    const r = defaultApplyOutcome(out, p.file);
    if (!r.changed) return r;
    const pending = out.kv.pending_restart;
    const parts = [
      out.kv.unvalidated === '1'
        ? `${p.file} written (PostgreSQL is not running: not validated, takes effect at start)`
        : `${p.file} updated and reloaded`,
    ];
    if (pending) parts.push(`restart needed for: ${pending}`);
    parts.push(...p.notes);
    r.comment = parts.join('; ');
    return r;
  },
};
