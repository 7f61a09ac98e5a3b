// Builds the batched remote /bin/sh scripts: a preamble of portable helper functions, then framed steps whose
// output the controller splits apart again (src/shell/protocol.ts). Every step runs with stdin from /dev/null,
// because the script itself arrives on the shell's stdin and a step reading stdin would swallow the rest of it.
import { randomBytes } from 'node:crypto';
import { ACTOR_FUNCTIONS } from './actor.js';
import { shQuote } from './quote.js';

/** A condition a step needs; when false the step is skipped and reported with `reason`. */
export interface StepGuard {
  cond: string;
  /** A word the controller maps to a message, e.g. requisite_failed, no_changes. */
  reason: string;
}

/** One piece of shell in a batch, with the engine's index so its output can be found again. */
export interface ScriptStep {
  index: number;
  /** Body run in a subshell; it reports through orch_kv / orch_kvfile, orch_changed=1 and its exit status. */
  body: string;
  /** Checked in order before the step runs. */
  guards?: StepGuard[];
}

export const MARK = '@@ORCH';

/** A fresh token that command output cannot guess, so framing lines cannot be forged by a host's files. */
export function newNonce(): string {
  return randomBytes(9).toString('hex');
}

/**
 * Portable helpers (dash, bash, FreeBSD sh): hex encoding with od, sha256 and stat on Linux and FreeBSD, and the
 * run-as helpers of actor.ts. Values travel hex-encoded so any byte survives the trip. The helpers are kept in
 * $orch_lib too, so a step can hand them to a shell it starts as another account (orch_as_run).
 */
export function helpers(): string {
  return `umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL
orch_hex() { od -An -v -tx1 | tr -d ' \\n'; }
orch_kv() { printf '${MARK}:%s:kv:%s:' "$ORCH_NONCE" "$1"; printf '%s' "$2" | orch_hex; printf '\\n'; }
orch_kvfile() { printf '${MARK}:%s:kv:%s:' "$ORCH_NONCE" "$1"; orch_hex < "$2"; printf '\\n'; }
orch_sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum < "$1" | cut -c1-64
  elif command -v sha256 >/dev/null 2>&1; then sha256 -q < "$1"
  else openssl dgst -sha256 < "$1" | sed 's/^.* //'; fi
}
orch_stat() {
  if [ "$(uname -s)" = FreeBSD ]; then stat -f '%Su:%Sg:%Lp' "$1"; else stat -c '%U:%G:%a' "$1"; fi
}
orch_ok() { eval "orch_r=\\$orch_rc_$1"; [ "$orch_r" = 0 ] || [ "$orch_r" = 100 ]; }
orch_chg() { eval "orch_r=\\$orch_rc_$1"; [ "$orch_r" = 100 ]; }
orch_begin() { printf '\\n${MARK}:%s:begin:%s\\n' "$ORCH_NONCE" "$1"; }
orch_end() { printf '\\n${MARK}:%s:end:%s:%s\\n' "$ORCH_NONCE" "$1" "$2"; }
${ACTOR_FUNCTIONS}
`;
}

/** The batch's first lines: the nonce, then the helpers, defined once and kept in $orch_lib. */
export function preamble(nonce: string): string {
  return `# shellcheck disable=SC2034 # ORCH_NONCE is read by the helpers that eval "$orch_lib" defines
ORCH_NONCE=${nonce}
orch_lib=${shQuote(helpers())}
eval "$orch_lib"
`;
}

/** Frame one step: begin marker, body in a subshell with stdin closed and stderr merged, end marker with status. */
export function frameStep(step: ScriptStep): string {
  const i = step.index;
  // Exit status 100 means "succeeded and changed something": a step sets orch_changed=1 to say so.
  const run =
    `orch_begin ${i}\n( set -e\norch_changed=0\n${step.body}\nif [ "$orch_changed" = 1 ]; then exit 100; fi\n) </dev/null 2>&1\n` +
    `orch_rc_${i}=$?\norch_end ${i} "$orch_rc_${i}"\n`;
  const guards = step.guards ?? [];
  if (guards.length === 0) return run;
  const branches = guards.map((g, n) => {
    const reason = g.reason.replace(/[^A-Za-z0-9_]/g, '_');
    return `${n === 0 ? 'if' : 'elif'} ! { ${g.cond}; }; then\n  orch_rc_${i}=skip; orch_begin ${i}; orch_kv skipped ${reason}; orch_end ${i} skip\n`;
  });
  return `${branches.join('')}else\n${run}fi\n`;
}

/** The whole batch: preamble, an optional prelude (variable presets), then the framed steps in order. */
export function buildBatch(nonce: string, steps: readonly ScriptStep[], prelude = ''): string {
  return `${preamble(nonce)}\n${prelude}\n${steps.map(frameStep).join('\n')}\n`;
}
