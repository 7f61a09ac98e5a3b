// file.line: one line of an existing file is present (optionally replacing lines that match a regex, or placed
// after/before an anchor) or absent. Every other byte of the file is kept; the write is atomic (temp + rename,
// owner and mode kept). It never creates the file and never edits symlinks or non-regular files.
// Regexes are POSIX extended regular expressions, evaluated by awk on the host.
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { shQuote } from '../../shell/quote.js';
import { absolutePath, defaultApplyOutcome } from '../common.js';
import { kvFlag, kvText, probeError, readKv } from '../probe.js';
import type { StateFunction } from '../types.js';
import { asDirOwner } from '../../shell/actor.js';
import { atomicWrite } from '../../shell/file.js';
import { NONL, lineEditCommand, lineVerdictCommand } from './line-edit.js';

const oneLine = z.string().refine((s) => !/[\n\0]/.test(s), 'must be a single line (no newline or NUL)');

const args = z
  .object({
    name: absolutePath.describe('absolute path of an existing regular file'),
    line: oneLine.optional().describe('the whole line (needed for ensure: present)'),
    ensure: z.enum(['present', 'absent']).default('present').describe('whether the line is in the file'),
    match: oneLine
      .min(1)
      .optional()
      .describe('POSIX ERE: lines matching it are replaced by line (present) or removed (absent)'),
    after: oneLine.min(1).optional().describe('POSIX ERE of an anchor line: a new line goes right after it'),
    before: oneLine
      .min(1)
      .optional()
      .describe('POSIX ERE of an anchor line: a new line goes right before it'),
  })
  .strict()
  .refine((a) => a.ensure !== 'present' || a.line !== undefined, { message: 'ensure present needs `line`' })
  .refine((a) => a.ensure !== 'absent' || a.line !== undefined || a.match !== undefined, {
    message: 'ensure absent needs `line` or `match`',
  })
  .refine((a) => a.after === undefined || a.before === undefined, {
    message: 'give at most one of after or before',
  });
type Args = z.infer<typeof args>;

/** Diffs are only fetched for files up to this size; larger ones report a checksum change. */
const MAX_DIFF_BYTES = 256 * 1024;

/** What the check prints: exists always; awkerr when the edit fails; differs (content and new when small). */
const checkKv = z.object({
  exists: z.enum(['file', 'other', 'none']),
  awkerr: kvText.optional(),
  differs: kvFlag,
  content: kvText.optional(),
  new: kvText.optional(),
});

export const fileLine: StateFunction<Args> = {
  args,
  check(a) {
    // One awk pass says whether the edit changes the file (no cmp, no read of its last byte); the content and the
    // edited text are read only when it does, for the diff.
    const edit = (sink: string): string => lineEditCommand(a, sink, { nonlSet: true });
    return `f=${shQuote(a.name)}
if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then orch_kv exists other
elif [ ! -e "$f" ]; then orch_kv exists none
elif ${lineVerdictCommand(a)}; then
  orch_kv exists file
  case $orch_lv in *'
'*) orch_lv=\${orch_lv##*'
'} ;; esac
  if [ "$orch_lv" != same ]; then
    orch_kv differs 1
    if [ "$(wc -c < "$f")" -le ${MAX_DIFF_BYTES} ]; then
      ${NONL}
      orch_kvfile content "$f"
      ${edit('| orch_kvfile new /dev/stdin')}
    fi
  fi
else orch_kv exists file; orch_kv awkerr "$orch_lv"
fi`;
  },
  interpretCheck(a, _p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${a.name}: ${out.text}` };
    const read = readKv(checkKv, out);
    if (!read.ok) return probeError(a.name, read.error);
    const kv = read.kv;
    if (kv.exists === 'other')
      return { status: 'error', comment: `${a.name} is not a regular file; refusing to edit it` };
    if (kv.awkerr !== undefined)
      return { status: 'error', comment: `cannot edit ${a.name}: ${kv.awkerr.trim()}` };
    if (kv.exists === 'none') {
      if (a.ensure === 'absent')
        return { status: 'clean', comment: `${a.name} does not exist; nothing to remove` };
      // An earlier state in the run may create the file; the apply step decides (and fails if it is still missing).
      return {
        status: 'unknown',
        comment: `${a.name} does not exist (yet); file.line edits existing files only`,
      };
    }
    if (kv.differs !== '1')
      return { status: 'clean', comment: `${a.name}: line ${a.ensure === 'present' ? 'present' : 'absent'}` };
    const verb = a.ensure === 'present' ? 'set' : 'removed';
    if (kv.content === undefined || kv.new === undefined) {
      return {
        status: 'change',
        comment: `${a.name}: line would be ${verb}`,
        diff: 'content differs (file too large to diff)',
      };
    }
    return {
      status: 'change',
      comment: `${a.name}: line would be ${verb}`,
      diff: createTwoFilesPatch(a.name, a.name, kv.content, kv.new, '(on host)', '(orch)'),
    };
  },
  apply(a) {
    const d = a.name.replace(/\/[^/]*$/, '') || '/';
    return asDirOwner(
      shQuote(d),
      `f=${shQuote(a.name)}; d=${shQuote(d)}
if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then echo "$f is not a regular file; refusing to edit it"; exit 1
elif [ ! -e "$f" ]; then
  ${a.ensure === 'absent' ? ':' : 'echo "$f does not exist; file.line edits existing files only"; exit 1'}
else
${atomicWrite({ fileVar: 'f', dirVar: 'd', tmpVar: 'tmp', produce: lineEditCommand(a, '> "$tmp"') })}
  if [ "$orch_changed" = 1 ]; then orch_kv comment ${shQuote(`${a.name}: line ${a.ensure === 'present' ? 'set' : 'removed'}`)}; fi
fi`,
    );
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, a.name);
  },
};
