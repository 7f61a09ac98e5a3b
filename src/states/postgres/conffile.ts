// Configuration files a running PostgreSQL validates (pg_hba.conf, postgresql.conf and its includes): read them in a
// check, and replace them in an apply with a backup, a validation query against the live server, a restore on any
// error, and only then a reload. Builds shell text only; the file layout is the caller's.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { asActor, decideActor } from '../../shell/actor.js';
import { atomicWrite, fileProbe, readFileProbe } from '../../shell/file.js';
import { printContent, shQuote } from '../../shell/quote.js';
import type { StepOutput } from '../../shell/protocol.js';
import { normMode } from '../common.js';
import { type KvRead } from '../probe.js';
import { applySql, socketPresent } from '../../pg/connector.js';
import type { PgTarget } from '../../pg/target.js';

/** Config files larger than this are not read back for diffs (they would not be PostgreSQL config files). */
const MAX_READ = 1024 * 1024;

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Check-step shell: the one file probe (src/shell/file.ts). Given `want`, the content orch would write, it reports
 * only whether the file differs from it, and the content (when small) only then: a file in the desired state costs a
 * stat and a hash. Without, the hash and, when small, the content (a file edited in place). Read-only.
 */
export function configFileProbe(file: string, want?: string): string {
  return want === undefined
    ? fileProbe(file, { content: 'always', maxBytes: MAX_READ })
    : fileProbe(file, { expectSha: sha256(want), content: 'if-differs', maxBytes: MAX_READ });
}

export interface FileState {
  exists: 'file' | 'none' | 'other';
  content?: string;
  sha256?: string;
  user?: string;
  group?: string;
  mode?: string;
  parent: boolean;
  /** Probed against the wanted content (configFileProbe with `want`): whether the file differs from it. */
  differs?: boolean;
}

/** What configFileProbe reported; `compared` when it was given the wanted content. */
export function readFileState(out: StepOutput, compared = false): KvRead<FileState> {
  const read = readFileProbe(out);
  if (!read.ok) return read;
  const p = read.kv;
  const s: FileState = { exists: p.exists, parent: p.parent };
  if (compared) s.differs = p.differs;
  if (p.content !== undefined) s.content = p.content;
  if (p.sha256) s.sha256 = p.sha256;
  if (p.user) s.user = p.user;
  if (p.group) s.group = p.group;
  if (p.mode) s.mode = normMode(p.mode);
  return { ok: true, kv: s };
}

export interface Ownership {
  user?: string;
  group?: string;
  mode?: string;
}

/** Differences between the file on the host and the desired content/ownership: [descriptions, unified diff]. */
export function fileChanges(
  name: string,
  s: FileState,
  content: string,
  own: Ownership,
): { changes: string[]; diff?: string } {
  const changes: string[] = [];
  let diff: string | undefined;
  if (s.exists === 'none') {
    return {
      changes: ['file would be created'],
      diff: createTwoFilesPatch(name, name, '', content, '(absent)', '(orch)'),
    };
  }
  if (s.differs ?? s.sha256 !== sha256(content)) {
    if (s.content !== undefined)
      diff = createTwoFilesPatch(name, name, s.content, content, '(on host)', '(orch)');
    else changes.push('content differs');
  }
  if (own.user !== undefined && own.user !== s.user) changes.push(`user ${s.user} -> ${own.user}`);
  if (own.group !== undefined && own.group !== s.group) changes.push(`group ${s.group} -> ${own.group}`);
  if (own.mode !== undefined && own.mode !== s.mode) changes.push(`mode ${s.mode} -> ${own.mode}`);
  if (diff) changes.unshift('content');
  return diff ? { changes, diff } : { changes };
}

export interface ReplaceOptions {
  file: string;
  content: string;
  own: Ownership;
  /** Owner and mode of a file that does not exist yet (when own does not say). */
  newOwner: string;
  newMode: string;
  /** When set, the apply fails unless the file still has this sha256 (it was edited relative to what check saw). */
  expectSha?: string | null;
  target: PgTarget;
  /** Shell run first when the server is up, before anything is written; may `exit 1`. */
  preWrite?: string;
  /** SQL printing `orch:fail:` lines for each problem the server finds in the new file. */
  validateSql?: string;
  /** SQL run after a successful validation (reload, pending_restart report). */
  afterSql?: string;
}

/**
 * Apply-step shell: write a temp `<file>.orch-new.XXXXXX` in the same directory (0600 until it gets its final owner
 * and mode, once), keep a hard-linked (or copied) `<file>.orch-old`, move the new file into place, validate against
 * the running server, restore the old file on any error, then run afterSql. When the server is not running the file
 * is written without validation and the step says so. Every write, rename and removal runs as the account that owns
 * the file's directory (postgres on Debian); the SQL runs from this shell as before.
 */
export function replaceFileScript(o: ReplaceOptions): string {
  const own = o.own;
  const guard =
    o.expectSha === undefined
      ? ''
      : o.expectSha === null
        ? `if [ -e "$orch_cf" ]; then echo "$orch_cf appeared since the check; run again"; exit 1; fi\n`
        : `if [ ! -f "$orch_cf" ] || [ "$(orch_sha256 "$orch_cf")" != ${o.expectSha} ]; then echo "$orch_cf changed since the check; run again"; exit 1; fi\n`;
  const running = `[ -n "$orch_pg_psql" ] && ${socketPresent(o.target)}`;
  const names = `orch_cf=${shQuote(o.file)}; orch_dir=${shQuote(path.posix.dirname(o.file))}; orch_old="$orch_cf.orch-old"`;
  const write = asActor(`${names}
if [ -e "$orch_cf" ] && { [ ! -f "$orch_cf" ] || [ -L "$orch_cf" ]; }; then echo "$orch_cf exists and is not a regular file"; exit 1; fi
${guard}${atomicWrite({
    fileVar: 'orch_cf',
    dirVar: 'orch_dir',
    tmpVar: 'orch_new',
    temp: 'beside',
    produce: printContent(o.content, '> "$orch_new"'),
    newOwner: o.newOwner,
    newMode: o.newMode,
    user: own.user,
    group: own.group,
    mode: own.mode,
    backupVar: 'orch_old',
    same: 'echo "$orch_cf is already in the desired state"',
  })}`);
  // After a rejection: the old file back (a hard link or copy made by the write above), or no file as before.
  const restore = asActor(`${names}
if [ -f "$orch_old" ]; then mv -f -- "$orch_old" "$orch_cf"; else rm -f -- "$orch_cf"; fi`);
  const validate = o.validateSql
    ? `if ! ( ${applySql(o.target, o.validateSql, 'v')}
); then
    ${restore}
    echo "$orch_cf was rejected by the server; the previous file is restored"
    exit 1
  fi`
    : ':';
  const after = o.afterSql ? applySql(o.target, o.afterSql, 'r') : ':';
  return `${names}
[ -d "$orch_dir" ] || { echo "directory $orch_dir does not exist"; exit 1; }
${decideActor('"$orch_dir"')}
${o.preWrite ? `if ${running}; then\n${o.preWrite}\nfi\n` : ''}${write}
if [ "$orch_changed" = 1 ]; then
  if ${running}; then
  ${validate}
  ${after}
  else
    echo "PostgreSQL is not running: $orch_cf written without validation; it takes effect when the server starts"
    orch_kv unvalidated 1
  fi
fi`;
}
