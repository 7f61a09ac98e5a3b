// file.managed: a file's content (from a template or inline), owner, group and mode. Written atomically: a temp
// file in the same directory, then rename. It never follows into other files and never deletes anything.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { printContent, shQuote } from '../../shell/quote.js';
import { secretReadCount } from '../../render/context.js';
import { redactor } from '../../secrets/redactor.js';
import { asDirOwner } from '../../shell/actor.js';
import { atomicWrite, fileProbe, readFileProbe } from '../../shell/file.js';
import { absolutePath, defaultApplyOutcome, modeSchema, normMode, osAccount } from '../common.js';
import { probeError } from '../probe.js';
import type { StateFunction } from '../types.js';

const args = z
  .object({
    name: absolutePath.describe('absolute path of the file'),
    source: z
      .string()
      .optional()
      .describe('template under templates/ rendering the content (or give contents)'),
    contents: z.string().optional().describe('the content inline (or give source)'),
    context: z.record(z.string(), z.unknown()).optional().describe('extra template variables for source'),
    user: osAccount.optional().describe('owner: a user name or numeric id (default: left as it is)'),
    group: osAccount.optional().describe('group: a group name or numeric id (default: left as it is)'),
    mode: modeSchema
      .optional()
      .describe("octal mode as a quoted string, e.g. '0640' (default: left as it is)"),
    makedirs: z.boolean().default(false).describe('create missing parent directories'),
    show_diff: z
      .boolean()
      .default(true)
      .describe('show a unified diff of content changes (never for secrets)'),
  })
  .strict()
  .refine((a) => (a.source === undefined) !== (a.contents === undefined), {
    message: 'give exactly one of source (a template) or contents',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  content: string;
  sha256: string;
  /**
   * The content holds a secret: no diff is shown and the host's copy is never fetched, because the file on the
   * host may hold secrets orch no longer knows (an old password) and so could not mask.
   */
  sensitive: boolean;
}

/** Diffs are only fetched for files up to this size; larger ones report a checksum change. */
const MAX_DIFF_BYTES = 256 * 1024;

export const fileManaged: StateFunction<Args, Prepared> = {
  args,
  inlineCheck: true,
  prepare(a, ctx) {
    const reads = secretReadCount();
    const content = a.source !== undefined ? ctx.renderTemplate(a.source, a.context ?? {}) : a.contents!;
    return {
      content,
      sha256: createHash('sha256').update(content, 'utf8').digest('hex'),
      // A template that read a secret may have encoded it beyond what the redactor recognizes.
      sensitive: secretReadCount() !== reads || redactor.redact(content) !== content,
    };
  },
  check(a, p) {
    return fileProbe(a.name, {
      expectSha: p.sha256,
      content: p.sensitive || !a.show_diff ? 'never' : 'if-differs',
      maxBytes: MAX_DIFF_BYTES,
    });
  },
  interpretCheck(a, p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${a.name}: ${out.text}` };
    const read = readFileProbe(out);
    if (!read.ok) return probeError(a.name, read.error);
    const s = read.kv;
    if (s.exists === 'other') {
      return {
        status: 'error',
        comment: `${a.name} exists and is not a regular file; refusing to replace it`,
      };
    }
    if (s.exists === 'none') {
      const parentNote = s.parent || a.makedirs ? '' : ' (its directory does not exist yet)';
      return {
        status: 'change',
        comment: `${a.name} would be created${parentNote}`,
        diff: a.show_diff
          ? createTwoFilesPatch(a.name, a.name, '', p.content, '(absent)', '(orch)')
          : 'new file',
      };
    }
    const { user, group, mode } = s;
    const changes: string[] = [];
    let diff: string | undefined;
    if (s.differs) {
      if (s.content !== undefined && a.show_diff) {
        diff = createTwoFilesPatch(a.name, a.name, s.content, p.content, '(on host)', '(orch)');
      } else
        changes.push(p.sensitive ? 'content differs (it holds secrets: no diff shown)' : 'content differs');
    }
    if (a.user !== undefined && a.user !== user) changes.push(`user ${user} -> ${a.user}`);
    if (a.group !== undefined && a.group !== group) changes.push(`group ${group} -> ${a.group}`);
    if (a.mode !== undefined && a.mode !== normMode(mode))
      changes.push(`mode ${normMode(mode)} -> ${a.mode}`);
    if (!diff && changes.length === 0)
      return { status: 'clean', comment: `${a.name} is in the desired state` };
    const desc = [diff ? 'content' : '', ...changes].filter(Boolean).join('; ');
    return {
      status: 'change',
      comment: `${a.name} would be updated: ${desc}`,
      diff: [changes.join('\n'), diff ?? ''].filter(Boolean).join('\n'),
    };
  },
  apply(a, p) {
    const f = shQuote(a.name);
    const dir = shQuote(path.posix.dirname(a.name));
    const write = atomicWrite({
      fileVar: 'f',
      dirVar: 'd',
      tmpVar: 'tmp',
      produce: printContent(p.content, '> "$tmp"'),
      user: a.user,
      group: a.group,
      mode: a.mode,
    });
    // Everything that creates, renames or chmods runs as the account that owns the directory.
    return asDirOwner(
      dir,
      `f=${f}; d=${dir}
${a.makedirs ? 'mkdir -p -- "$d"' : '[ -d "$d" ] || { echo "directory $d does not exist"; exit 1; }'}
if [ -e "$f" ] && { [ ! -f "$f" ] || [ -L "$f" ]; }; then echo "$f exists and is not a regular file"; exit 1; fi
${write}`,
    );
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, a.name);
  },
};
