// file.directory: a directory exists with the given owner, group and mode. It creates the directory (and its
// parents with makedirs) and fixes its metadata; it never touches the directory's contents, never follows or
// replaces a symlink, and never replaces a file that stands where the directory should be.
import path from 'node:path';
import { z } from 'zod';
import { asDirOwner } from '../../shell/actor.js';
import { shQuote } from '../../shell/quote.js';
import { absolutePath, defaultApplyOutcome, modeSchema, normMode, osAccount } from '../common.js';
import { kvFlag, kvStat, probeError, readKv } from '../probe.js';
import type { StateFunction } from '../types.js';
import { ownerSpec } from '../../shell/file.js';

const args = z
  .object({
    name: absolutePath.describe('absolute path of the directory'),
    user: osAccount.optional().describe('owner: a user name or numeric id (default: left as it is)'),
    group: osAccount.optional().describe('group: a group name or numeric id (default: left as it is)'),
    mode: modeSchema
      .optional()
      .describe("octal mode as a quoted string, e.g. '0755' (default: left as it is)"),
    makedirs: z.boolean().default(false).describe('create missing parent directories too'),
  })
  .strict();
type Args = z.infer<typeof args>;

/** The mode as `stat` prints it (no leading zeros), to compare on the host. */
function statMode(mode: string): string {
  return mode.replace(/^0+/, '') || '0';
}

/** What the check prints: exists always; stat for a directory; parent when absent. */
const checkKv = z.object({
  exists: z.enum(['link', 'dir', 'other', 'none']),
  stat: kvStat.optional(),
  parent: kvFlag,
});

export const fileDirectory: StateFunction<Args> = {
  args,
  inlineCheck: true,
  check(a) {
    return `d=${shQuote(a.name)}
# shellcheck disable=SC2154 # orch_st is set by orch_statv (script.ts)
if [ -L "$d" ]; then orch_kv exists link
elif [ -d "$d" ]; then orch_kv exists dir; orch_statv "$d"; orch_kv stat "$orch_st"
elif [ -e "$d" ]; then orch_kv exists other
else
  orch_kv exists none
  if [ -d ${shQuote(path.posix.dirname(a.name))} ]; then orch_kv parent 1; fi
fi`;
  },
  interpretCheck(a, _p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${a.name}: ${out.text}` };
    const read = readKv(checkKv, out);
    if (!read.ok) return probeError(a.name, read.error);
    const kv = read.kv;
    if (kv.exists === 'link' || kv.exists === 'other') {
      const what = kv.exists === 'link' ? 'a symbolic link' : 'not a directory';
      return { status: 'error', comment: `${a.name} exists and is ${what}; refusing to replace it` };
    }
    if (kv.exists === 'none') {
      const meta = [
        a.user && `user ${a.user}`,
        a.group && `group ${a.group}`,
        a.mode && `mode ${a.mode}`,
      ].filter(Boolean);
      if (kv.parent !== '1' && !a.makedirs) {
        // An earlier state may still create the parent; the apply step fails cleanly if it does not.
        return {
          status: 'unknown',
          comment: `${a.name} would be created, but its parent does not exist (yet) and makedirs is off`,
        };
      }
      return {
        status: 'change',
        comment: `${a.name} would be created`,
        diff: `+ directory ${a.name}${meta.length ? ` (${meta.join(', ')})` : ''}`,
      };
    }
    const [user, group, mode] = (kv.stat ?? '::').split(':');
    const changes: string[] = [];
    if (a.user !== undefined && a.user !== user) changes.push(`user ${user} -> ${a.user}`);
    if (a.group !== undefined && a.group !== group) changes.push(`group ${group} -> ${a.group}`);
    if (a.mode !== undefined && a.mode !== normMode(mode))
      changes.push(`mode ${normMode(mode)} -> ${a.mode}`);
    if (changes.length === 0) return { status: 'clean', comment: `${a.name} is in the desired state` };
    return {
      status: 'change',
      comment: `${a.name} would be updated: ${changes.join('; ')}`,
      diff: changes.join('\n'),
    };
  },
  apply(a) {
    const owner = ownerSpec(a.user, a.group);
    const parent = shQuote(path.posix.dirname(a.name));
    const lines = [
      `d=${shQuote(a.name)}; did=`,
      'if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then echo "$d exists and is not a directory"; exit 1; fi',
      owner !== undefined ? `orch_own_ok ${shQuote(owner)} "$d" ${parent} || exit 1` : '',
      'if [ ! -d "$d" ]; then',
      a.makedirs
        ? '  mkdir -p -- "$d"'
        : `  [ -d ${parent} ] || { echo "parent directory of $d does not exist (makedirs is off)"; exit 1; }\n  mkdir -- "$d"`,
      // A new directory is made 0700 (umask 077) and gets 0755 unless a mode is asked for, after its owner.
      '  orch_changed=1; did="$did created"',
      'fi',
      'cur=$(orch_stat "$d")',
    ];
    if (owner !== undefined) {
      const conds: string[] = [];
      if (a.user !== undefined) conds.push(`[ "\${cur%%:*}" != ${shQuote(a.user)} ]`);
      if (a.group !== undefined) conds.push(`[ "$(echo "$cur" | cut -d: -f2)" != ${shQuote(a.group)} ]`);
      lines.push(
        `if ${conds.join(' || ')}; then chown -- ${shQuote(owner)} "$d"; orch_changed=1; did="$did owner"; fi`,
      );
    }
    if (a.mode !== undefined) {
      // Five digits: GNU chmod keeps a directory's setuid/setgid bits for a 4-digit mode; 0NNNN clears them.
      lines.push(
        `if [ "\${cur##*:}" != ${statMode(a.mode)} ]; then chmod -- 0${a.mode} "$d"; orch_changed=1; did="$did mode"; fi`,
      );
    } else {
      lines.push('case $did in *created*) chmod -- 0755 "$d" ;; esac');
    }
    lines.push(`if [ -n "$did" ]; then orch_kv comment ${shQuote(`${a.name}:`)}"$did"; fi`);
    // The directory's entry lives in its parent: whoever owns the parent creates and changes it.
    return asDirOwner(parent, lines.filter((l) => l !== '').join('\n'));
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, a.name);
  },
};
