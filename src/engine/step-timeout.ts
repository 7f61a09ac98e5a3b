// The per-state `timeout:` on the host: a state's body runs in the background under a watchdog that, past the
// timeout, marks the run as timed out and ends the body's whole process tree (ps/awk, as no job control exists in
// a non-interactive sh). The timed-out step reports `timed_out` and fails; a guard keeps every later step of the
// batch from running. Only for states that set `timeout:`; everything else is framed as before.
import type { StepGuard } from '../shell/script.js';

/** Batch prelude when some state has a timeout: a private flag directory (removed when the batch exits) and the
 * tree-killer. Constant text. */
export const TIMEOUT_PRELUDE = `orch_tmo_d=$(mktemp -d 2>/dev/null) || orch_tmo_d=
if [ -n "$orch_tmo_d" ]; then trap 'rm -rf "$orch_tmo_d"' EXIT; fi
orch_killtree() {
  kill -STOP "$1" 2>/dev/null
  for orch_c in $(ps -A -o pid= -o ppid= | awk -v p="$1" '$2 == p { print $1 }'); do orch_killtree "$orch_c"; done
  kill -TERM "$1" 2>/dev/null
  kill -CONT "$1" 2>/dev/null
}
`;

/** Later steps do not run once a state timed out on this host. */
export const AFTER_TIMEOUT_GUARD: StepGuard = {
  cond: '[ -z "$orch_tmo_d" ] || [ ! -e "$orch_tmo_d/t" ]',
  reason: 'timed_out',
};

/** The body of a step run under a watchdog of `seconds`; the frame around it (script.ts) is unchanged. */
export function withTimeout(body: string, seconds: number): string {
  const t = String(seconds);
  return `( ${body.trim()}
  if [ "$orch_changed" = 1 ]; then exit 100; fi
) &
orch_p=$!
( sleep ${t} & orch_s=$!
  trap 'kill "$orch_s" 2>/dev/null; exit 0' TERM
  wait "$orch_s"
  if [ -n "$orch_tmo_d" ]; then : > "$orch_tmo_d/t"; fi
  orch_killtree "$orch_p" ) </dev/null >/dev/null 2>&1 &
orch_w=$!
orch_r=0
wait "$orch_p" || orch_r=$?
kill "$orch_w" 2>/dev/null || :
if [ -n "$orch_tmo_d" ] && [ -e "$orch_tmo_d/t" ]; then orch_kv timed_out ${t}; exit 1; fi
exit "$orch_r"`;
}
