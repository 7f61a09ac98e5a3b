// What keeps an orch script from outliving its controller. OpenSSH gives a session without a pty no SIGHUP when its
// channel or connection closes: the remote shell runs on, and its next write to the closed pipe kills whatever
// writes (SIGPIPE), which can be a step half-way through (a replica build piping into tee). So every script sent
// by runScript starts with this prelude, run by the script's own shell before anything else:
// - its stdout and stderr go through relays that copy to the channel and, once the channel is gone, keep reading
//   into /dev/null: no step is ever killed by a write;
// - a watchdog polls the sshd process that serves the connection (the login shell's parent, passed as $1) and,
//   when it is gone, sends TERM to the script's shell;
// - TERM (from the watchdog, or the channel signal a controller sends on timeout) is trapped: POSIX shells run a
//   trap only once the foreground command is done, so the step that runs finishes (or rolls back) on its own and
//   no further step starts.
// Without mktemp or mkfifo the script runs as before. Constant text: nothing of the caller goes into it.
// An `orch run` command gets the same controller check and poller, but no relays and no trap (watchedCommand).
import { shQuote } from '../shell/quote.js';

/**
 * The words that follow the remote shell on the command line: the login shell's own pid, `$$`, the one spelling sh
 * and csh share (csh has no $PPID: "PPID: Undefined variable", and root's shell is csh on FreeBSD up to 13). The
 * login shell execs sudo/doas or /bin/sh in its place, so that pid's parent is the sshd process serving this
 * connection; the prelude reads it (/proc on Linux, ps elsewhere).
 */
export const CONTROLLER_ARG = '$$';

/** Sets orch_ctl from $1: the sshd process's pid, or empty (no watchdog); defines orch_alive <pid>. */
const FIND_CONTROLLER = `orch_ctl=
case \${1:-} in
  '' | *[!0-9]*) ;;
  *)
    if [ -r "/proc/$1/stat" ] && read -r orch_ctl <"/proc/$1/stat"; then
      orch_ctl=\${orch_ctl##*) }; orch_ctl=\${orch_ctl#* }; orch_ctl=\${orch_ctl%% *}
    else
      orch_ctl=$(ps -o ppid= -p "$1" 2>/dev/null) || orch_ctl=
      orch_ctl=\${orch_ctl##*[!0-9]}
    fi
    case $orch_ctl in '' | *[!0-9]* | 0 | 1) orch_ctl= ;; esac ;;
esac
set --
orch_alive() {
  if [ -d /proc/self ]; then [ -d "/proc/$1" ]; else kill -0 "$1" 2>/dev/null || ps -p "$1" >/dev/null 2>&1; fi
}
`;

/** The poller's wait: one second at a time while this shell (or what it exec'd) and the sshd process are there. */
const POLL = 'while orch_alive $$ && orch_alive "$orch_ctl"; do sleep 1; done';

export const WATCHDOG_PRELUDE = `${FIND_CONTROLLER}if [ -n "$orch_ctl" ] && orch_wd=$(mktemp -d 2>/dev/null) && mkfifo "$orch_wd/o" "$orch_wd/e" 2>/dev/null; then
  { cat; cat >/dev/null; } <"$orch_wd/o" &
  { cat >&2; cat >/dev/null; } <"$orch_wd/e" &
  exec >"$orch_wd/o" 2>"$orch_wd/e"
  rm -rf "$orch_wd"
  trap 'exit 143' TERM
  ( trap - TERM
    ${POLL}
    if orch_alive $$; then kill -TERM $$; fi ) </dev/null >/dev/null 2>&1 &
fi
unset orch_wd
`;

/** Seconds between the TERM and the KILL of an `orch run` command whose controller is gone. */
export const COMMAND_GRACE_S = 5;

// For a command the goal is the opposite of a script's: it should end, not finish its step. So no relays (a write to
// the closed channel may end it early) and no trap: once the poller is started, the shell execs the same
// `/bin/sh -c <command>` as without the watchdog, keeping the command's stdin, output, exit status and signal as
// they were. When sshd is gone the poller sends TERM to the process group, and KILL after COMMAND_GRACE_S seconds
// (at once when the command's shell is gone but something of the group is left). It picks the group at its start,
// while every pid it looks at is surely of this session: the one led by the command's shell (sudo may make one),
// else the one led by the login shell (sshd gives each session its own with setsid). It is a member of that group,
// so the id cannot be reused while it waits. Without either group only the command's shell is signalled. A sshd
// process it cannot see at the start (another user's, under hidepid) means no watchdog rather than a false alarm.
// Cost on the host: one poller subshell while the command runs and one `sleep 1` at a time, so two processes more
// for a command that ends at once and one more per second it runs; without /proc, also the `ps` that finds sshd.
const COMMAND_PRELUDE = `orch_ls=\${1:-}
${FIND_CONTROLLER}if [ -n "$orch_ctl" ] && orch_alive "$orch_ctl"; then
  ( if kill -0 -$$ 2>/dev/null; then orch_g=-$$; elif kill -0 -"$orch_ls" 2>/dev/null; then orch_g=-$orch_ls; else orch_g=$$; fi
    ${POLL}
    if orch_alive $$; then
      trap '' TERM
      kill -TERM $orch_g
      orch_n=0
      while orch_alive $$ && [ $orch_n -lt ${COMMAND_GRACE_S} ]; do sleep 1; orch_n=$((orch_n + 1)); done
      kill -KILL $orch_g
    fi ) </dev/null >/dev/null 2>&1 &
fi
`;

/**
 * The /bin/sh text that runs `command` (a /bin/sh command line, parsed by a fresh /bin/sh as without the watchdog)
 * under the watchdog; its $1 is the login shell's word CONTROLLER_ARG.
 */
export function watchedCommand(command: string): string {
  return `${COMMAND_PRELUDE}exec /bin/sh -c ${shQuote(command)}\n`;
}
