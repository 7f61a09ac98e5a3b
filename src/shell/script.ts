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
  /**
   * Run the body in the batch's own shell, not a subshell: one process less per step. Only for bodies that never
   * exit, cd, export, trap or set shell options and do not rely on set -e (a check whose failure shows in its last
   * command's status or its kv); the variables and functions it sets stay behind for the next steps, which set
   * their own. Never sets orch_changed.
   */
  inline?: boolean;
}

export const MARK = '@@ORCH';

/**
 * Bytes a kv value may hold to travel as it is (kind `kvt`, the rest of its line); a value with any other byte (a
 * newline, a carriage return, a quote, a byte above 0x7e) is hex-encoded (kind `kv`). Listed one by one, so no locale
 * can widen a range; none of them is special inside a shell bracket expression.
 */
export const KV_PLAIN = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_./:@+=,~ \t-';

/** A fresh token that command output cannot guess, so framing lines cannot be forged by a host's files. */
export function newNonce(): string {
  return randomBytes(9).toString('hex');
}

/**
 * Portable helpers (dash, bash, FreeBSD sh): hex encoding with od, sha256 and stat on Linux and FreeBSD, and the
 * run-as helpers of actor.ts. A value made only of KV_PLAIN bytes travels as it is, any other hex-encoded, so any
 * byte survives the trip. The helpers are kept in $orch_lib too, so a step can hand them to a shell it starts as
 * another account (orch_as_run).
 *
 * Every process a check starts is paid on every host at every run, so the helpers start few: the OS and our uid are
 * read once per batch (the effective uid by the shell itself from /proc/self/status where there is one), a plain kv value is printed by the builtin printf, and orch_statv / orch_shav set a variable
 * from one command substitution whose only command the shell execs in place (no function inside it, no pipe to
 * cut). Like "$(orch_stat f)" as an argument, orch_statv and orch_shav never fail: a failed stat or hash leaves the
 * variable empty, and the tool's message goes to the step's output. orch_kvfile joins od's words with the shell's
 * own field splitting (hex words hold no glob or IFS byte), not a pipe to tr.
 */
export function helpers(): string {
  return `umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL
orch_os=$(uname -s)
orch_uid=
if [ -r /proc/self/status ]; then
  # "Uid: real effective saved fs": the effective one is the third word (orch_r takes the others).
  while read -r orch_k orch_r orch_e orch_r; do
    if [ "$orch_k" = Uid: ]; then orch_uid=$orch_e; break; fi
  done </proc/self/status
fi
case $orch_uid in '' | *[!0-9]*) orch_uid=$(id -u) ;; esac
orch_kvp='${KV_PLAIN}'
orch_hex() { od -An -v -tx1 | tr -d ' \\n'; }
orch_kv() {
  case $2 in
    *[!$orch_kvp]*) printf '${MARK}:%s:kv:%s:' "$ORCH_NONCE" "$1"; printf '%s' "$2" | od -An -v -tx1 | tr -d ' \\n'; printf '\\n' ;;
    *) printf '${MARK}:%s:kvt:%s:%s\\n' "$ORCH_NONCE" "$1" "$2" ;;
  esac
}
orch_kvfile() {
  orch_kf=$1; orch_kh=$(od -An -v -tx1 < "$2") || :
  if [ -n "\${IFS+x}" ]; then orch_ifs=$IFS; else orch_ifs=; unset orch_ifs; fi
  IFS=' 
'
  set -- $orch_kh
  IFS=; orch_kh="$*"
  if [ -n "\${orch_ifs+x}" ]; then IFS=$orch_ifs; else unset IFS; fi
  printf '${MARK}:%s:kv:%s:%s\\n' "$ORCH_NONCE" "$orch_kf" "$orch_kh"
}
orch_shav() {
  if command -v sha256sum >/dev/null 2>&1; then orch_sha=$(sha256sum < "$1") || orch_sha=; orch_sha=\${orch_sha%% *}
  elif command -v sha256 >/dev/null 2>&1; then orch_sha=$(sha256 -q < "$1") || orch_sha=
  else orch_sha=$(openssl dgst -sha256 < "$1") || orch_sha=; orch_sha=\${orch_sha##* }; fi
}
orch_sha256() { orch_shav "$1"; printf '%s\\n' "$orch_sha"; }
orch_stat() {
  if [ "$orch_os" = FreeBSD ]; then stat -f '%Su:%Sg:%Lp' "$1"; else stat -c '%U:%G:%a' "$1"; fi
}
# shellcheck disable=SC2034 # orch_st is read by the probes that call orch_statv (file.ts, file.directory)
orch_statv() {
  if [ "$orch_os" = FreeBSD ]; then orch_st=$(stat -f '%Su:%Sg:%Lp' "$1") || orch_st=
  else orch_st=$(stat -c '%U:%G:%a' "$1") || orch_st=; fi
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
  const run = step.inline
    ? `orch_begin ${i}\n{\n${step.body}\n} </dev/null 2>&1\norch_rc_${i}=$?\norch_end ${i} "$orch_rc_${i}"\n`
    : `orch_begin ${i}\n( set -e\norch_changed=0\n${step.body}\nif [ "$orch_changed" = 1 ]; then exit 100; fi\n) </dev/null 2>&1\n` +
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
