// Who acts on a path: root never writes, chowns, chmods, renames or deletes by path inside a directory that another
// account can write (that account could swap an entry for a symlink between two of root's steps). The decision is
// made on the host at apply time from the directories the path resolves through; the mutating part of a step then
// runs as that account in a fresh /bin/sh, its text sent on stdin by builtin printf (nothing in argv or the
// environment). Builds shell text only; the functions below are part of every batch's preamble.
import { printfWords } from './quote.js';

/**
 * Shell function `orch_run_as USER CMD [ARG...]`: runs CMD with its arguments as USER (as ourselves when USER is ''
 * or is us): runuser where util-linux has it, else setpriv, else `su -m` (FreeBSD). The one way orch starts a
 * program as another account; it needs no facts, so scripts that run before or without them (pg status) use it too.
 *
 * The su branch never lets a login shell see the arguments. FreeBSD su(1): with -m "the invoked shell is your login
 * shell", the CALLER's passwd shell (root's is csh up to FreeBSD 13, sh from 14), not $SHELL and not the target's;
 * BSD getopt stops at the user name, so `-c STRING` and what follows go to that shell as its own arguments. csh has
 * no "$@" and takes no positional words after -c, so the words travel in the environment (su -m keeps it) as one
 * sh-quoted list, ORCH_RA_ARGV, and the login shell only sees a constant string that means the same in sh and csh:
 * exec /bin/sh -c '<fixed text>'. -f keeps csh from reading .cshrc (su passes it to csh only); GNU and busybox su
 * with -m run $SHELL instead, hence SHELL=/bin/sh.
 *
 * `orch_run_as_prepare USER`: a script that runs many commands as one account (pg_make_replica) looks up our uid
 * and USER's once, not two `id` per call; the cache holds that one name only, and is kept where the function was
 * called (a subshell's is gone with it).
 */
export const RUN_AS_FUNCTION = `orch_run_as_prepare() {
  orch_uid=\${orch_uid:-$(id -u)}; orch_ra_cu=$1; orch_ra_cuid=$(id -u -- "$1" 2>/dev/null) || orch_ra_cuid=
}
orch_run_as() {
  orch_ra_u=$1; shift
  if [ -n "$orch_ra_u" ] && [ "$orch_ra_u" = "\${orch_ra_cu-}" ]; then orch_ra_t=$orch_ra_cuid
  elif [ -n "$orch_ra_u" ]; then orch_ra_t=$(id -u -- "$orch_ra_u" 2>/dev/null) || orch_ra_t=
  fi
  if [ -z "$orch_ra_u" ] || [ "\${orch_uid:-$(id -u)}" = "$orch_ra_t" ]; then "$@"
  elif command -v runuser >/dev/null 2>&1; then runuser -u "$orch_ra_u" -- "$@"
  elif command -v setpriv >/dev/null 2>&1; then setpriv --reuid="$orch_ra_u" --regid="$(id -g -- "$orch_ra_u")" --init-groups -- "$@"
  else
    orch_ra_q=
    for orch_ra_a do
      orch_ra_o=
      while :; do
        case $orch_ra_a in
          *\\'*) orch_ra_o=$orch_ra_o\${orch_ra_a%%\\'*}\\'\\\\\\'\\'; orch_ra_a=\${orch_ra_a#*\\'} ;;
          *) break ;;
        esac
      done
      orch_ra_q="$orch_ra_q '$orch_ra_o$orch_ra_a'"
    done
    orch_ra_f=; [ "\${orch_os:-$(uname -s)}" != FreeBSD ] || orch_ra_f=-f
    ORCH_RA_ARGV=$orch_ra_q SHELL=/bin/sh su -m $orch_ra_f "$orch_ra_u" -c \\
      'exec /bin/sh -c '\\''orch_ra_v=$ORCH_RA_ARGV; unset ORCH_RA_ARGV; eval "exec $orch_ra_v"'\\'
  fi
}`;

/**
 * Shell functions (POSIX sh, GNU and FreeBSD stat):
 * - `orch_actor DIR`: sets orch_as to '' (act as ourselves) or to the one non-root account that can change what DIR
 *   resolves to; prints why and returns 1 when several accounts, or group/other-writable directories, are involved.
 *   When we are not root there is nobody to drop to: orch_as stays ''.
 * - `orch_run_as USER CMD...`: see RUN_AS_FUNCTION.
 * - `orch_as_run CHUNK...`: runs the printf-format chunks (octal escapes) as a step body, as $orch_as in a fresh sh
 *   with the preamble, or in a subshell when orch_as is ''; exit status 100 there becomes orch_changed=1 here.
 * - `orch_own_ok SPEC FILE DIR`: whether this account may give FILE the owner SPEC (user[:group]); refuses with a
 *   reason when it is not root and SPEC names another user or a group it is not in.
 * - `orch_kvsafe KEY FILE`: orch_kvfile through one descriptor, checked to be the regular file the path names.
 */
export const ACTOR_FUNCTIONS = `orch_stat_dirs() {
  if [ "$orch_os" = FreeBSD ]; then stat -f '%u %Su %Mp%Lp %N' -- "$@"; else stat -c '%u %U %a %n' -- "$@"; fi
}
orch_a_add() {
  case $1 in '' | *[!0-9]*) echo "cannot read the owner of $3"; return 1 ;; esac
  [ "$1" = 0 ] && return 0
  if [ -z "$orch_as" ]; then
    [ "$2" != UNKNOWN ] && [ "$2" != "$1" ] || { echo "refusing to act in $orch_a_for: $3 belongs to uid $1, which has no name"; return 1; }
    orch_as=$2; orch_as_uid=$1
  elif [ "$orch_as_uid" != "$1" ]; then
    echo "refusing to act in $orch_a_for: both $orch_as and $2 can change where it leads ($3)"; return 1
  fi
}
orch_a_chain() {
  orch_c_r=\${1#/}; orch_c_p=; set -- /
  while [ -n "$orch_c_r" ]; do
    orch_c_c=\${orch_c_r%%/*}; orch_c_r=\${orch_c_r#"$orch_c_c"}; orch_c_r=\${orch_c_r#/}
    [ -n "$orch_c_c" ] || continue
    orch_c_p=$orch_c_p/$orch_c_c; set -- "$@" "$orch_c_p"
  done
  orch_c_n=$#
  orch_c_out=$(orch_stat_dirs "$@") || { echo "cannot inspect the directories above $orch_a_for"; return 1; }
  set -f; orch_c_ifs=$IFS; IFS='
'
  set -- $orch_c_out
  IFS=$orch_c_ifs; set +f
  [ "$#" = "$orch_c_n" ] || { echo "cannot inspect the directories above $orch_a_for"; return 1; }
  orch_c_last=
  for orch_c_l; do
    orch_c_n=$((orch_c_n - 1))
    orch_c_u=\${orch_c_l%% *}; orch_c_l=\${orch_c_l#* }; orch_c_nm=\${orch_c_l%% *}; orch_c_l=\${orch_c_l#* }
    orch_c_m=\${orch_c_l%% *}; orch_c_d=\${orch_c_l#* }
    case $orch_c_m in '' | *[!0-7]*) echo "cannot read the mode of $orch_c_d"; return 1 ;; esac
    orch_a_add "$orch_c_u" "$orch_c_nm" "$orch_c_d" || return 1
    orch_c_last=$orch_c_u
    if [ $((0$orch_c_m & 022)) -ne 0 ]; then
      # A sticky directory (like /tmp) on the way is fine: only an entry's owner may rename it, and each entry's
      # owner is counted too. The directory that will hold the file must not be writable by anyone else.
      if [ $((0$orch_c_m & 01000)) -eq 0 ] || [ "$orch_c_n" = 0 ]; then
        echo "refusing to act in $orch_a_for: $orch_c_d is writable by group or others"; return 1
      fi
    fi
  done
  if [ -n "$orch_as" ] && [ "$orch_c_last" != "$orch_as_uid" ]; then
    echo "refusing to act in $orch_a_for: $orch_c_d is not owned by $orch_as, who can replace a directory above it"; return 1
  fi
}
orch_actor() {
  orch_as=; orch_as_uid=; orch_a_for=$1
  [ "$orch_uid" = 0 ] || return 0
  case $1 in /*) ;; *) echo "refusing to act in $1: not an absolute path"; return 1 ;; esac
  case $1 in *'
'*) echo "refusing to act in a path with a newline"; return 1 ;; esac
  orch_a_d=$1
  while [ ! -d "$orch_a_d" ]; do orch_a_d=\${orch_a_d%/*}; [ -n "$orch_a_d" ] || orch_a_d=/; done
  # Every directory name resolution passes through: the physical chain of the directory, and the chain of each
  # directory that holds a symbolic link on the way.
  orch_a_r=\${orch_a_d#/}; orch_a_p=
  while [ -n "$orch_a_r" ]; do
    orch_a_c=\${orch_a_r%%/*}; orch_a_r=\${orch_a_r#"$orch_a_c"}; orch_a_r=\${orch_a_r#/}
    [ -n "$orch_a_c" ] || continue
    if [ -L "$orch_a_p/$orch_a_c" ]; then
      orch_a_ph=$(cd -P -- "\${orch_a_p:-/}" && pwd -P) || return 1
      orch_a_chain "$orch_a_ph" || return 1
    fi
    orch_a_p=$orch_a_p/$orch_a_c
  done
  orch_a_ph=$(cd -P -- "$orch_a_d" && pwd -P) || return 1
  orch_a_chain "$orch_a_ph"
}
${RUN_AS_FUNCTION}
orch_as_sh() { orch_run_as "$orch_as" /bin/sh -s; }
orch_as_run() {
  if [ -z "$orch_as" ]; then
    # Ourselves: no new shell, the body runs in a subshell of this one (as a step body does).
    orch_body=$(for orch_chunk in "$@"; do printf "$orch_chunk"; done; printf x)
    orch_body=\${orch_body%x}
    case $- in *e*) orch_e=-e ;; *) orch_e=+e ;; esac
    # Run as a plain command, not as a condition: a condition would switch off set -e inside it.
    set +e
    ( set -e; orch_changed=0; eval "$orch_body"; if [ "$orch_changed" = 1 ]; then exit 100; fi ) </dev/null
    orch_r=$?
    set "$orch_e"
    [ "$orch_r" != 0 ] || return 0
  elif {
    printf 'ORCH_NONCE=%s\\n' "$ORCH_NONCE"
    # shellcheck disable=SC2154 # orch_lib is set by the batch preamble (script.ts) before it evals these helpers
    printf '%s\\ncd /\\n( set -e\\norch_changed=0\\n' "$orch_lib"
    for orch_chunk in "$@"; do printf "$orch_chunk"; done
    printf '\\nif [ "$orch_changed" = 1 ]; then exit 100; fi\\n) </dev/null\\n'
  } | orch_as_sh; then return 0; else orch_r=$?; fi
  if [ "$orch_r" = 100 ]; then orch_changed=1; return 0; fi
  return "$orch_r"
}
orch_own_ok() {
  [ -n "$1" ] && [ "$orch_uid" != 0 ] || return 0
  orch_o_u=\${1%%:*}; orch_o_g=; case $1 in *:*) orch_o_g=\${1#*:} ;; esac
  orch_o_me=$(id -un)
  if [ -n "$orch_o_u" ] && [ "$orch_o_u" != "$orch_o_me" ] && [ "$orch_o_u" != "$orch_uid" ]; then
    echo "refusing to give $2 to user $orch_o_u: $orch_o_me can write in $3, so orch writes there as $orch_o_me, and a file there is not protected from $orch_o_me anyway"
    return 1
  fi
  if [ -n "$orch_o_g" ]; then
    case " $(id -Gn) $(id -G) " in *" $orch_o_g "*) ;; *)
      echo "refusing to give $2 to group $orch_o_g: orch writes in $3 as $orch_o_me (who can write there), and $orch_o_me is not in that group"
      return 1 ;;
    esac
  fi
}
orch_kvsafe() {
  # command: a failed redirection of exec would end the whole shell, and a check may run in the batch's own one.
  command exec 4< "$2" || return 1
  # One exec'd stat per substitution (not orch_fid inside it): two processes, not four.
  if [ "$orch_os" = FreeBSD ]; then orch_k_fd=$(stat -f '%d:%i:%HT' <&4); orch_k_p=$(stat -f '%d:%i:%HT' "$2") || orch_k_p=
  else orch_k_fd=$(stat -c '%d:%i:%F' -- - <&4); orch_k_p=$(stat -c '%d:%i:%F' -- "$2") || orch_k_p=; fi
  if [ "$orch_k_p" = "$orch_k_fd" ] && case $orch_k_fd in *:'regular file' | *:'Regular File') true ;; *) false ;; esac; then
    orch_kvfile "$1" /dev/stdin <&4; exec 4<&-
  else echo "$2 changed while it was being read"; exec 4<&-; return 1
  fi
}`;

/**
 * Shell that decides who acts in the directory named by the shell expression `dirExpr` (e.g. `"$d"` or a quoted
 * literal), and fails the step with the reason when nobody may. Sets orch_as for asActor.
 */
export function decideActor(dirExpr: string): string {
  return `orch_actor ${dirExpr} || exit 1`;
}

/**
 * Shell that runs `body` (self-contained: it sets its own variables and may use the preamble's helpers) as the
 * account decideActor chose, in a fresh /bin/sh with stdin closed; `orch_changed=1` there counts here.
 */
export function asActor(body: string): string {
  const chunks = printfWords(body);
  return chunks.length ? `orch_as_run \\\n${chunks.join(' \\\n')}` : 'orch_as_run';
}

/** decideActor then asActor: the mutating part of a step, as whoever owns the directory it works in. */
export function asDirOwner(dirExpr: string, body: string): string {
  return `${decideActor(dirExpr)}\n${asActor(body)}`;
}
