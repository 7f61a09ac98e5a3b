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

/**
 * The words that follow the remote shell on the command line: the login shell's own pid, `$$`, the one spelling sh
 * and csh share (csh has no $PPID: "PPID: Undefined variable", and root's shell is csh on FreeBSD up to 13). The
 * login shell execs sudo/doas or /bin/sh in its place, so that pid's parent is the sshd process serving this
 * connection; the prelude reads it (/proc on Linux, ps elsewhere).
 */
export const CONTROLLER_ARG = '$$';

export const WATCHDOG_PRELUDE = `orch_ctl=
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
  if [ -d /proc/self ]; then [ -d "/proc/$orch_ctl" ]; else kill -0 "$orch_ctl" 2>/dev/null || ps -p "$orch_ctl" >/dev/null 2>&1; fi
}
if [ -n "$orch_ctl" ] && orch_wd=$(mktemp -d 2>/dev/null) && mkfifo "$orch_wd/o" "$orch_wd/e" 2>/dev/null; then
  { cat; cat >/dev/null; } <"$orch_wd/o" &
  { cat >&2; cat >/dev/null; } <"$orch_wd/e" &
  exec >"$orch_wd/o" 2>"$orch_wd/e"
  rm -rf "$orch_wd"
  trap 'exit 143' TERM
  ( trap - TERM
    while kill -0 $$ 2>/dev/null && orch_alive; do sleep 1; done
    if kill -0 $$ 2>/dev/null; then kill -TERM $$; fi ) </dev/null >/dev/null 2>&1 &
fi
unset orch_wd
`;
