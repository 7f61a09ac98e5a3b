// file.absent: a path does not exist. It removes a file, symlink (the link, never its target) or a whole
// directory tree. It refuses `/` and the top-level system directories at compile time, and paths that are not
// normalized (`..`, `//`, trailing `/`), so what is removed is exactly what the state file says.
import path from 'node:path';
import { z } from 'zod';
import { asDirOwner } from '../../shell/actor.js';
import { shQuote } from '../../shell/quote.js';
import { absolutePath, defaultApplyOutcome } from '../common.js';
import { kvDigits, probeError, readKv } from '../probe.js';
import type { StateFunction } from '../types.js';

/** Paths whose removal would wreck a host; file.absent refuses them whatever the state file says. */
export const PROTECTED_PATHS: ReadonlySet<string> = new Set([
  '/',
  ...[
    'bin',
    'boot',
    'compat',
    'dev',
    'etc',
    'home',
    'lib',
    'lib32',
    'lib64',
    'libexec',
    'libx32',
    'media',
    'mnt',
  ]
    .concat([
      'net',
      'opt',
      'proc',
      'rescue',
      'root',
      'run',
      'sbin',
      'snap',
      'srv',
      'sys',
      'tmp',
      'usr',
      'var',
    ])
    .map((d) => `/${d}`),
  ...['bin', 'include', 'lib', 'lib32', 'lib64', 'libexec', 'local', 'sbin', 'share', 'src'].map(
    (d) => `/usr/${d}`,
  ),
  ...['bin', 'etc', 'lib', 'libexec', 'sbin', 'share'].map((d) => `/usr/local/${d}`),
  ...['cache', 'db', 'lib', 'log', 'mail', 'run', 'spool', 'tmp'].map((d) => `/var/${d}`),
]);

/**
 * The path as the host resolves it lexically (`//etc`, `/etc/`, `/etc/.`, `/etc/../etc` are all `/etc`), so the
 * guard holds even if the normalization rule before it changes. NUL is refused by `absolutePath` (the shell would
 * drop it and act on what is left).
 */
function protectedForm(p: string): string {
  const n = path.posix.normalize(p.replace(/\0/g, ''));
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

const args = z
  .object({
    name: absolutePath.describe('absolute, normalized path to remove (file, symlink or directory tree)'),
  })
  .strict()
  .refine((a) => !PROTECTED_PATHS.has(protectedForm(a.name)), {
    message: 'refusing to remove a system directory',
    path: ['name'],
  })
  .refine((a) => path.posix.normalize(a.name) === a.name && (a.name === '/' || !a.name.endsWith('/')), {
    message: 'name must be a normalized absolute path (no "..", "//", "." or trailing "/")',
    path: ['name'],
  });
type Args = z.infer<typeof args>;

/** What the check prints: exists (its absence reads as "could not tell"); entries of a directory, size of a file. */
const checkKv = z.object({
  exists: z.enum(['link', 'dir', 'file', 'none']).optional(),
  entries: kvDigits.optional(),
  size: kvDigits.optional(),
});

export const fileAbsent: StateFunction<Args> = {
  args,
  inlineCheck: true,
  check(a) {
    return `f=${shQuote(a.name)}
if [ -L "$f" ]; then orch_kv exists link
elif [ -d "$f" ]; then orch_kv exists dir; orch_kv entries "$(find "$f" | wc -l | tr -d ' ')"
elif [ -e "$f" ]; then orch_kv exists file; orch_kv size "$(wc -c < "$f" | tr -d ' ')"
else orch_kv exists none
fi`;
  },
  interpretCheck(a, _p, out) {
    if (out.status !== 0) return { status: 'error', comment: `could not inspect ${a.name}: ${out.text}` };
    const read = readKv(checkKv, out);
    if (!read.ok) return probeError(a.name, read.error);
    const kv = read.kv;
    switch (kv.exists) {
      case 'none':
        return { status: 'clean', comment: `${a.name} is absent` };
      case 'link':
        return { status: 'change', comment: `${a.name} would be removed`, diff: `- symlink ${a.name}` };
      case 'dir': {
        const inside = Math.max(0, Number(kv.entries ?? '1') - 1);
        return {
          status: 'change',
          comment: `${a.name} would be removed`,
          diff: `- directory ${a.name} (and ${inside} entr${inside === 1 ? 'y' : 'ies'} inside)`,
        };
      }
      case 'file':
        return {
          status: 'change',
          comment: `${a.name} would be removed`,
          diff: `- file ${a.name} (${kv.size ?? '?'} bytes)`,
        };
      default:
        return { status: 'unknown', comment: `could not tell whether ${a.name} exists` };
    }
  },
  apply(a) {
    // Removal runs as the account that owns the directory holding the path (root only in root's directories).
    return asDirOwner(
      shQuote(path.posix.dirname(a.name)),
      `f=${shQuote(a.name)}
if [ -e "$f" ] || [ -L "$f" ]; then
  rm -rf -- "$f"
  orch_changed=1
  orch_kv comment ${shQuote(`${a.name} removed`)}
fi`,
    );
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, a.name);
  },
};
