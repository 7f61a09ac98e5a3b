// The line edit of file.line as a POSIX awk program, so check (for the diff) and apply (for the write) compute the
// same result on the host with the same regex dialect (POSIX ERE, as grep -E). Builds shell text only.
import { printContent, shQuote } from '../../shell/quote.js';

export interface LineEdit {
  line?: string;
  ensure: 'present' | 'absent';
  match?: string;
  after?: string;
  before?: string;
}

// Parameters arrive as the first input (one per line) rather than through -v, which would process backslash
// escapes inside regexes, or the environment, where a secret in the line would be visible to other processes.
// Lines are compared as strings ("" concatenation) because awk compares numeric-looking strings as numbers.
// present: every line matching `match` becomes `line`; if nothing matched and `line` is not there, it is inserted
//          after the first line matching `after`, before the first matching `before`, else at the end.
// absent:  every line equal to `line` or matching `match` is dropped.
// The final newline is kept as it was (nonl=1: the file did not end with one).
// verdict=1 (the check): print only `same` or `differs`, whether the edit's lines are the file's lines, which for
// an edit that keeps the final newline as it was is whether its bytes are.
const AWK = `NR == FNR { p[FNR] = $0; next }
{ n++; buf[n] = $0; orig[n] = $0 }
END {
  L = p[1]; M = p[2]; A = p[3]; B = p[4]; E = p[5]; m = 0
  if (E == "absent") {
    for (i = 1; i <= n; i++) {
      if ((L != "" && (buf[i] "") == (L "")) || (M != "" && buf[i] ~ M)) continue
      out[++m] = buf[i]
    }
  } else {
    found = 0; replaced = 0
    for (i = 1; i <= n; i++) {
      if (M != "" && buf[i] ~ M) { buf[i] = L; replaced = 1 }
      if ((buf[i] "") == (L "")) found = 1
    }
    pos = n + 1
    if (!found && A != "") { for (i = 1; i <= n; i++) if (buf[i] ~ A) { pos = i + 1; break } }
    else if (!found && B != "") { for (i = 1; i <= n; i++) if (buf[i] ~ B) { pos = i; break } }
    for (i = 1; i <= n + 1; i++) {
      if (!found && i == pos) out[++m] = L
      if (i <= n) out[++m] = buf[i]
    }
  }
  if (verdict) {
    same = (m == n)
    for (i = 1; same && i <= m; i++) if ((out[i] "") != (orig[i] "")) same = 0
    print (same ? "same" : "differs")
    exit
  }
  for (i = 1; i <= m; i++) printf "%s%s", (i > 1 ? "\\n" : ""), out[i]
  if (m > 0 && !nonl) printf "\\n"
}`;

/** The parameter block fed to the awk program (five lines). */
export function lineEditParams(e: LineEdit): string {
  return [e.line ?? '', e.match ?? '', e.after ?? '', e.before ?? '', e.ensure].map((s) => `${s}\n`).join('');
}

/**
 * Shell that prints the edited content of "$f" on stdout (piped to `sink`, e.g. `> "$tmp"`). It sets `nonl` first,
 * unless `nonlSet` says the caller ran NONL already (a check edits twice and reads the last byte once); the
 * pipeline's status is awk's, so a bad regex fails the step.
 */
export function lineEditCommand(e: LineEdit, sink: string, opts: { nonlSet?: boolean } = {}): string {
  const edit = printContent(lineEditParams(e), `| awk -v nonl="$nonl" ${shQuote(AWK)} - "$f" ${sink}`);
  return opts.nonlSet ? edit : `${NONL}\n${edit}`;
}

/**
 * Shell condition running the edit of "$f" once, read-only: true when awk ran, with `orch_lv` holding its verdict
 * (its last line, `same` or `differs`) or, when awk failed, its messages.
 */
export function lineVerdictCommand(e: LineEdit): string {
  return `orch_lv=$(${printContent(lineEditParams(e), `| awk -v verdict=1 ${shQuote(AWK)} - "$f" 2>&1`)}
)`;
}

/** Shell setting `nonl=1` when "$f" is not empty and its last byte is not a newline (od prints one hex pair). */
export const NONL = `nonl=0; if [ -s "$f" ]; then case $(tail -c 1 "$f" | od -An -tx1) in *0a) ;; *) nonl=1 ;; esac; fi`;
