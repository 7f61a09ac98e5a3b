// The one atomic write and the one file probe of generated shell. The write produces the new content into a
// mktemp file (0600) beside the target, gives it its final owner and mode in one chown and one chmod, and renames
// it over the target only when bytes or metadata differ: the file is never readable beyond its final mode, not
// even for a moment, and never half-written. The probe reads a path without following it into anything but a
// regular file. Builds shell text only; writes run as the account that owns the directory (actor.ts), and use the
// batch preamble's orch_stat, orch_sha256, orch_kv and orch_kvsafe.
import path from 'node:path';
import { z } from 'zod';
import { kvFlag, kvStat, kvText, readKv, type KvRead } from './kv.js';
import { shQuote } from './quote.js';

export interface AtomicWriteOptions {
  /** Shell variable (name only) holding the target path, set by the caller. */
  fileVar: string;
  /** Shell variable holding the target's directory. */
  dirVar: string;
  /** Shell variable the temp file's path goes in; `produce` writes to it. */
  tmpVar: string;
  /** Shell that writes the new content to the temp file. */
  produce: string;
  /** Where the temp file is made: `.orch.XXXXXX` in the directory, or `<file>.orch-new.XXXXXX` beside it. */
  temp?: 'dir' | 'beside';
  /**
   * Whose the result is: 'keep' (default) keeps an existing file's owner, group and mode (newOwner/newMode for a
   * new file); 'writer' never chowns, so the file belongs to the writing account.
   */
  owner?: 'keep' | 'writer';
  /** User to own the result; overrides the kept one. */
  user?: string;
  /** Group of the result; overrides the kept one. */
  group?: string;
  /** Four-digit octal mode to set; overrides the kept one. */
  mode?: string;
  /** Owner (`user[:group]`) of a file that does not exist yet, when user/group do not say; default: the writer. */
  newOwner?: string;
  /** Mode of a file that does not exist yet, when mode does not say; default 0644. */
  newMode?: string;
  /** Shell variable holding a path that gets the old file (hard link, else copy) just before the rename. */
  backupVar?: string;
  /** Shell run when the file is already as wanted (the temp file is removed either way). */
  same?: string;
  /** Shell run after the rename. */
  replaced?: string;
  /** Flush the temp file to disk before the rename (fsync(1), else `sync FILE`, where the host has one). */
  fsync?: boolean;
}

/** Shell flushing the file at `fileExpr` to disk where the host can (FreeBSD fsync(1), GNU `sync FILE`). */
export function fsyncFile(fileExpr: string): string {
  return `if command -v fsync >/dev/null 2>&1; then fsync ${fileExpr}; else sync -- ${fileExpr} 2>/dev/null || :; fi`;
}

/**
 * Shell that replaces the file with what `produce` writes. Sets orch_changed=1 only when the file was replaced;
 * leaves no temp file behind. Refuses an owner the writing account cannot give (orch_own_ok: it is not root when
 * the directory belongs to another account).
 */
export function atomicWrite(o: AtomicWriteOptions): string {
  const f = `"$${o.fileVar}"`;
  const d = `"$${o.dirVar}"`;
  const tmp = `"$${o.tmpVar}"`;
  const set = (v: string, value: string | undefined): string =>
    value !== undefined ? `${v}=${shQuote(value)}\n` : '';
  const keep =
    o.owner === 'writer'
      ? `orch_u=; orch_g=; orch_m=${o.mode ?? o.newMode ?? '0644'}\n`
      : `orch_u=${o.newOwner !== undefined ? shQuote(o.newOwner) : ''}; orch_g=; orch_m=${o.newMode ?? '0644'}
if [ -f ${f} ]; then orch_cur=$(orch_stat ${f}); orch_u=\${orch_cur%%:*}; orch_g=\${orch_cur#*:}; orch_g=\${orch_g%%:*}; orch_m=\${orch_cur##*:}; fi
${set('orch_u', o.user)}${set('orch_g', o.group)}${set('orch_m', o.mode)}`;
  const template = o.temp === 'beside' ? `"$${o.fileVar}.orch-new.XXXXXX"` : `"$${o.dirVar}/.orch.XXXXXX"`;
  const backup = o.backupVar
    ? `rm -f -- "$${o.backupVar}"
  if [ -f ${f} ]; then ln -- ${f} "$${o.backupVar}" 2>/dev/null || cp -p -- ${f} "$${o.backupVar}"; fi
  `
    : '';
  return `${keep}orch_own=$orch_u\${orch_g:+:$orch_g}
orch_own_ok "$orch_own" ${f} ${d} || exit 1
${o.tmpVar}=$(mktemp ${template})
trap 'rm -f -- ${tmp}' EXIT
${o.produce}
if [ -n "$orch_own" ]; then chown -- "$orch_own" ${tmp}; fi
chmod -- "$orch_m" ${tmp}${o.fsync ? `\n${fsyncFile(tmp)}` : ''}
if [ -f ${f} ] && cmp -s ${tmp} ${f} && [ "$(orch_stat ${tmp})" = "$(orch_stat ${f})" ]; then
  rm -f -- ${tmp}${o.same ? `\n  ${o.same}` : ''}
else
  ${backup}mv -f -- ${tmp} ${f}
  orch_changed=1${o.replaced ? `\n  ${o.replaced}` : ''}
fi`;
}

export interface FileProbeOptions {
  /**
   * With the sha256 orch wants: kv `differs` is 1 when the file's differs (the host's hash is not reported).
   * Without: kv `sha256` is the file's hash.
   */
  expectSha?: string;
  /**
   * When the content comes back as kv `content`: never (it may hold secrets orch could not mask), always, or only
   * when it differs from expectSha. Only files up to maxBytes are read.
   */
  content: 'never' | 'always' | 'if-differs';
  maxBytes?: number;
}

/**
 * Check-step shell for one path: kv exists = file | none | other (a symbolic link, even to a file, is other);
 * for a file stat (`user:group:mode`) and the hash or `differs`, content as asked; for none, parent=1 when the
 * directory exists. Read-only.
 */
export function fileProbe(file: string, o: FileProbeOptions): string {
  const max = o.maxBytes ?? 1024 * 1024;
  const read = `if [ "$(wc -c < "$orch_pf")" -le ${max} ]; then orch_kvsafe content "$orch_pf"; fi`;
  let body: string;
  if (o.expectSha === undefined) {
    body = `  orch_shav "$orch_pf"; orch_kv sha256 "$orch_sha"${o.content === 'never' ? '' : `\n  ${read}`}`;
  } else {
    body = `  orch_shav "$orch_pf"
  if [ "$orch_sha" != ${shQuote(o.expectSha)} ]; then
    orch_kv differs 1
    ${o.content === 'never' ? ':' : read}
  fi${o.content === 'always' ? `\n  ${read}` : ''}`;
  }
  return `orch_pf=${shQuote(file)}
# shellcheck disable=SC2154 # orch_st and orch_sha are set by orch_statv and orch_shav (script.ts)
if [ -f "$orch_pf" ] && [ ! -L "$orch_pf" ]; then
  orch_kv exists file
  orch_statv "$orch_pf"; orch_kv stat "$orch_st"
${body}
elif [ -e "$orch_pf" ] || [ -L "$orch_pf" ]; then orch_kv exists other
else
  orch_kv exists none
  if [ -d ${shQuote(path.posix.dirname(file))} ]; then orch_kv parent 1; fi
fi`;
}

/** What fileProbe reported, read through one parser (a misspelled key cannot read as "missing"). */
export interface FileProbe {
  exists: 'file' | 'none' | 'other';
  user?: string;
  group?: string;
  /** Octal mode as stat printed it (e.g. 644). */
  mode?: string;
  sha256?: string;
  /** The file's sha256 is not the expected one (probes with expectSha). */
  differs: boolean;
  content?: string;
  /** The directory of a missing file exists. */
  parent: boolean;
}

/** What fileProbe prints. */
const fileProbeKv = z.object({
  exists: z.enum(['file', 'none', 'other']),
  stat: kvStat.optional(),
  // Empty when the file could not be read: it then differs.
  sha256: z
    .string()
    .regex(/^([0-9a-f]{64})?$/, 'expected a SHA-256 in hex')
    .optional(),
  differs: kvFlag,
  content: kvText.optional(),
  parent: kvFlag,
});

/** Read fileProbe's kv through its schema: a misspelled key or an unknown `exists` is an error, never "missing". */
export function readFileProbe(out: { kv: Readonly<Record<string, string>> }): KvRead<FileProbe> {
  const read = readKv(fileProbeKv, out);
  if (!read.ok) return read;
  const kv = read.kv;
  const s: FileProbe = { exists: kv.exists, differs: kv.differs === '1', parent: kv.parent === '1' };
  const [user, group, mode] = (kv.stat ?? '').split(':');
  if (user) s.user = user;
  if (group) s.group = group;
  if (mode) s.mode = mode;
  if (kv.sha256) s.sha256 = kv.sha256;
  if (kv.content !== undefined) s.content = kv.content;
  return { ok: true, kv: s };
}

/** `user:group` for chown from optional parts, or undefined when neither is given. */
export function ownerSpec(user?: string, group?: string): string | undefined {
  if (user === undefined && group === undefined) return undefined;
  return `${user ?? ''}${group !== undefined ? `:${group}` : ''}`;
}
