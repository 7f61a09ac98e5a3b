// file.managed: a file's content (from a template or inline), owner, group and mode. Written atomically: a temp
// file in the same directory, then rename. It never follows into other files and never deletes anything. Binary
// and large sources: a source that is not UTF-8 text (or holds a NUL byte) is taken byte for byte, not rendered,
// and such a source, like any content over 64 KiB, is sent over SFTP (into the login user's private staging
// directory, then copied into place by the apply script, sha256 checked, under become as usual; under become to
// an account other than root, over the exec channel into a directory private to that account) rather than inside
// the script. The check compares sha256 on the host, so an unchanged file costs no transfer and no extra round trip,
// and --test sends nothing.
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { printContent } from '../../shell/quote.js';
import { secretReadCount } from '../../render/context.js';
import { redactor } from '../../secrets/redactor.js';
import { fileProbe, readFileProbe } from '../../shell/file.js';
import { placeStagedStep, writeFileStep } from '../../shell/place.js';
import { absolutePath, defaultApplyOutcome, modeSchema, normMode, osAccount } from '../common.js';
import { probeError } from '../probe.js';
import type { StateFunction } from '../types.js';

const args = z
  .object({
    name: absolutePath.describe('absolute path of the file'),
    source: z
      .string()
      .optional()
      .describe(
        'template under templates/ rendering the content (or give contents); a file that is not UTF-8 text is sent byte for byte, unrendered',
      ),
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
  /** The text (empty for a binary source). */
  content: string;
  /** Sent over SFTP (binary, or over INLINE_MAX_BYTES): these are the bytes. */
  upload?: Buffer;
  binary: boolean;
  sha256: string;
  /**
   * The content holds a secret: no diff is shown and the host's copy is never fetched, because the file on the
   * host may hold secrets orch no longer knows (an old password) and so could not mask.
   */
  sensitive: boolean;
}

/** Diffs are only fetched for files up to this size; larger ones report a checksum change. */
const MAX_DIFF_BYTES = 256 * 1024;

/** Content up to this size travels inside the apply script; larger content is sent over SFTP. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** UTF-8 text that a script can carry: valid UTF-8 without NUL (the shells drop NUL bytes). */
function isText(b: Buffer): boolean {
  if (b.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

export const fileManaged: StateFunction<Args, Prepared> = {
  args,
  inlineCheck: true,
  prepare(a, ctx) {
    const reads = secretReadCount();
    const raw = a.source !== undefined ? ctx.readSource?.(a.source) : undefined;
    if (raw && !isText(raw)) {
      return {
        content: '',
        upload: raw,
        binary: true,
        sha256: createHash('sha256').update(raw).digest('hex'),
        sensitive: false,
      };
    }
    const content = a.source !== undefined ? ctx.renderTemplate(a.source, a.context ?? {}) : a.contents!;
    const bytes = Buffer.from(content, 'utf8');
    return {
      content,
      ...(bytes.length > INLINE_MAX_BYTES ? { upload: bytes } : {}),
      binary: false,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      // A template that read a secret may have encoded it beyond what the redactor recognizes.
      sensitive: secretReadCount() !== reads || redactor.redact(content) !== content,
    };
  },
  upload(_a, p) {
    return p.upload;
  },
  check(a, p) {
    return fileProbe(a.name, {
      expectSha: p.sha256,
      content: p.sensitive || p.binary || !a.show_diff ? 'never' : 'if-differs',
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
        diff:
          a.show_diff && !p.binary
            ? createTwoFilesPatch(a.name, a.name, '', p.content, '(absent)', '(orch)')
            : `new file${p.binary ? ` (binary, ${p.upload!.length} bytes)` : ''}`,
      };
    }
    const { user, group, mode } = s;
    const changes: string[] = [];
    let diff: string | undefined;
    if (s.differs) {
      if (s.content !== undefined && a.show_diff) {
        diff = createTwoFilesPatch(a.name, a.name, s.content, p.content, '(on host)', '(orch)');
      } else
        changes.push(
          p.sensitive
            ? 'content differs (it holds secrets: no diff shown)'
            : p.binary
              ? `content differs (binary, ${p.upload!.length} bytes: no diff shown)`
              : 'content differs',
        );
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
    const common = { file: a.name, user: a.user, group: a.group, mode: a.mode, makedirs: a.makedirs };
    if (p.upload)
      return placeStagedStep({
        ...common,
        staged: `"$orch_stage"/${p.sha256}`,
        sha256: p.sha256,
        fsync: true,
      });
    return writeFileStep({ ...common, produce: printContent(p.content, '> "$tmp"') });
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, a.name);
  },
};
