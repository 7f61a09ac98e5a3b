// The atomic-write idiom shared by file states that rewrite a whole file: produce the new content into a temp file
// in the target's own directory, give it its final owner and mode (the old file's or the requested ones) in one
// chown and one chmod, and rename it over the target only when bytes or metadata differ. The temp file is made by
// mktemp (0600), so it is never readable beyond its final mode, not even for a moment. Builds shell text only; the
// caller runs it as the account that owns the directory (src/shell/actor.ts).
import { shQuote } from '../../shell/quote.js';

export interface AtomicWriteOptions {
  /** User to own the result; default: keep the existing file's (the writing account's for a new file). */
  user?: string;
  /** Group of the result; default as for user. */
  group?: string;
  /** Four-digit octal mode to set; default: keep the existing file's (0644 for a new file). */
  mode?: string;
}

/**
 * Shell that replaces "$f" (in directory "$d", both set by the caller) with what `produce` writes to "$tmp".
 * Sets orch_changed=1 only when the file was replaced; leaves no temp file behind on failure. Refuses an owner the
 * writing account cannot give (it is not root when the directory belongs to another account).
 */
export function atomicWriteBody(produce: string, opts: AtomicWriteOptions = {}): string {
  return `orch_u=; orch_g=; orch_m=0644
if [ -f "$f" ]; then orch_cur=$(orch_stat "$f"); orch_u=\${orch_cur%%:*}; orch_g=\${orch_cur#*:}; orch_g=\${orch_g%%:*}; orch_m=\${orch_cur##*:}; fi
${opts.user !== undefined ? `orch_u=${shQuote(opts.user)}\n` : ''}${opts.group !== undefined ? `orch_g=${shQuote(opts.group)}\n` : ''}${opts.mode ? `orch_m=${opts.mode}\n` : ''}orch_own=$orch_u\${orch_g:+:$orch_g}
orch_own_ok "$orch_own" "$f" "$d" || exit 1
tmp=$(mktemp "$d/.orch.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
${produce}
if [ -n "$orch_own" ]; then chown -- "$orch_own" "$tmp"; fi
chmod -- "$orch_m" "$tmp"
if [ -f "$f" ] && cmp -s "$tmp" "$f" && [ "$(orch_stat "$tmp")" = "$(orch_stat "$f")" ]; then
  rm -f -- "$tmp"
else
  mv -f -- "$tmp" "$f"
  orch_changed=1
fi`;
}

/** `user:group` for chown from optional parts, or undefined when neither is given. */
export function ownerSpec(user?: string, group?: string): string | undefined {
  if (user === undefined && group === undefined) return undefined;
  return `${user ?? ''}${group !== undefined ? `:${group}` : ''}`;
}
