// The atomic-write idiom shared by file states that rewrite a whole file: produce the new content into a temp file
// in the target's own directory, give it the old file's owner and mode (or the requested ones), and rename it over
// the target only when bytes or metadata differ. Builds shell text only.
import { shQuote } from '../../shell/quote.js';

export interface AtomicWriteOptions {
  /** `user`, `user:group` or `:group` to set on the result; default: keep the existing file's. */
  owner?: string;
  /** Four-digit octal mode to set; default: keep the existing file's (0644 for a new file). */
  mode?: string;
}

/**
 * Shell that replaces "$f" (in directory "$d", both set by the caller) with what `produce` writes to "$tmp".
 * Sets orch_changed=1 only when the file was replaced; leaves no temp file behind on failure.
 */
export function atomicWriteBody(produce: string, opts: AtomicWriteOptions = {}): string {
  return `tmp=$(mktemp "$d/.orch.XXXXXX")
trap 'rm -f "$tmp"' EXIT
${produce}
if [ -f "$f" ]; then chown "$(orch_stat "$f" | cut -d: -f1,2)" "$tmp"; chmod "$(orch_stat "$f" | cut -d: -f3)" "$tmp"; else chmod 0644 "$tmp"; fi
${opts.owner ? `chown ${shQuote(opts.owner)} "$tmp"` : ''}
${opts.mode ? `chmod ${opts.mode} "$tmp"` : ''}
if [ -f "$f" ] && cmp -s "$tmp" "$f" && [ "$(orch_stat "$tmp")" = "$(orch_stat "$f")" ]; then
  rm -f "$tmp"
else
  mv -f "$tmp" "$f"
  orch_changed=1
fi`;
}

/** `user:group` for chown from optional parts, or undefined when neither is given. */
export function ownerSpec(user?: string, group?: string): string | undefined {
  if (user === undefined && group === undefined) return undefined;
  return `${user ?? ''}${group !== undefined ? `:${group}` : ''}`;
}
