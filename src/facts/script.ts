// The read-only facts probe: one POSIX /bin/sh script (dash and FreeBSD sh) that prints framed sections.
// It only reads (uname, os-release, binaries, confs, pid files); it never writes, starts or installs anything.
// Every probe discards stderr and tolerates failure, so the script as a whole always exits 0.

/** Prefix of the lines that open a section of the probe's output. */
export const FACTS_MARKER = '@@orch-facts:';

/** Sections in the order the probe prints them; `end` proves the output was not truncated. */
export const FACTS_SECTIONS = [
  'begin',
  'uname',
  'hostname',
  'os-release',
  'freebsd-version',
  'init',
  'pkgtool',
  'pguser',
  'postgres',
  'end',
] as const;

// Why the whole body lives in one function called with </dev/null: the script arrives on the shell's stdin
// (`/bin/sh -s`), so a probe that reads stdin could swallow the rest of the script. A function body is parsed
// completely before it runs, and its stdin is /dev/null.
const SCRIPT = String.raw`# orch facts probe (read-only)
orch_m() { printf '@@orch-facts:%s\n' "$1"; }

# Every process the probe starts is paid on every host at every run: the probe reads files with the read builtin
# and cuts text with parameter expansions, and its helpers set variables instead of printing into $(...).
orch_tab='	'

# orch_cv: the last value of a postgresql.conf setting (quoted or bare; '=' optional), empty when unset or
# unreadable. The same lines count as in sed's -e "s/^[[:space:]]*NAME[[:space:]=][[:space:]=]*'\([^']*\)'.*/\1/p"
# -e "s/^[[:space:]]*NAME[[:space:]=][[:space:]=]*\([^[:space:]#']\{1,\}\).*/\1/p" | tail -n 1.
orch_conf() {
  orch_cv=
  [ -r "$1" ] || return 0
  while IFS= read -r orch_l || [ -n "$orch_l" ]; do
    orch_l=\${orch_l#"\${orch_l%%[![:space:]]*}"}
    case $orch_l in "$2"[[:space:]=]*) ;; *) continue ;; esac
    orch_l=\${orch_l#"$2"}
    orch_l=\${orch_l#"\${orch_l%%[![:space:]=]*}"}
    case $orch_l in
      \'*\'*) orch_l=\${orch_l#\'}; orch_cv=\${orch_l%%\'*} ;;
      '' | [\'#]* | [[:space:]]*) ;;
      *) orch_cv=\${orch_l%%[[:space:]#\']*} ;;
    esac
  done <"$1" 2>/dev/null
}

# yes when a live process holds the pid in the first line of file $1.
orch_pidfile_alive() {
  [ -r "$1" ] || return 1
  orch_pid=
  IFS= read -r orch_pid <"$1" 2>/dev/null || [ -n "$orch_pid" ] || return 1
  case $orch_pid in ''|*[!0-9]*) return 1 ;; esac
  kill -0 "$orch_pid" 2>/dev/null || ps -p "$orch_pid" >/dev/null 2>&1
}

# orch_rv: running state of a cluster: the postmaster.pid in its data dir, else the socket lock file
# (world-readable, so this still answers when the data dir is closed to us).
orch_running() {
  if [ -r "$1/postmaster.pid" ]; then
    if orch_pidfile_alive "$1/postmaster.pid"; then orch_rv=yes; else orch_rv=no; fi
  elif [ -r "$2/.s.PGSQL.$3.lock" ]; then
    if orch_pidfile_alive "$2/.s.PGSQL.$3.lock"; then orch_rv=yes; else orch_rv=no; fi
  elif [ -e "$1/PG_VERSION" ]; then
    orch_rv=no
  else
    orch_rv=unknown
  fi
}

# One cluster line: version name data conf default-socket [extra key=value]
orch_cluster() {
  orch_conf "$4/postgresql.conf" port; orch_port=$orch_cv
  case $orch_port in ''|*[!0-9]*) orch_port=5432 ;; esac
  # The first directory of the list, without the blanks around it.
  orch_conf "$4/postgresql.conf" unix_socket_directories; orch_sock=\${orch_cv%%,*}
  orch_sock=\${orch_sock#"\${orch_sock%%[![:space:]]*}"}; orch_sock=\${orch_sock%"\${orch_sock##*[![:space:]]}"}
  [ -n "$orch_sock" ] || orch_sock=$5
  # Values come from files the PostgreSQL account may own: a tab would forge a field of the line, so skip them.
  case "$1$2$3$4$orch_sock" in *"$orch_tab"*) return 0 ;; esac
  orch_running "$3" "$orch_sock" "$orch_port"; orch_run=$orch_rv
  printf 'cluster\tversion=%s\tname=%s\tport=%s\trunning=%s\tdata=%s\tconf=%s\tsocket=%s%s\n' \
    "$1" "$2" "$orch_port" "$orch_run" "$3" "$4" "$orch_sock" "$6"
}

orch_pg_debian() {
  for b in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$b" ] || continue
    v=\${b#/usr/lib/postgresql/}; v=\${v%%/*}
    printf 'bin\tversion=%s\tdir=%s\n' "$v" "\${b%/postgres}"
  done
  for c in /etc/postgresql/*/*/postgresql.conf; do
    [ -f "$c" ] || continue
    d=\${c%/postgresql.conf}; n=\${d##*/}; v=\${d%/*}; v=\${v##*/}
    orch_conf "$c" data_directory; data=$orch_cv
    [ -n "$data" ] || data=/var/lib/postgresql/$v/$n
    orch_cluster "$v" "$n" "$data" "$d" /var/run/postgresql ''
  done
}

orch_pg_redhat() {
  for b in /usr/pgsql-*/bin; do
    [ -x "$b/postgres" ] || continue
    v=\${b#/usr/pgsql-}; v=\${v%/bin}
    printf 'bin\tversion=%s\tdir=%s\n' "$v" "$b"
  done
  if [ -x /usr/bin/postgres ]; then
    v=$(/usr/bin/postgres --version 2>/dev/null | sed -n 's/.*[[:space:]]\([0-9][0-9]*\)\.[0-9].*/\1/p' | head -n 1)
    [ -n "$v" ] && printf 'bin\tversion=%s\tdir=%s\n' "$v" /usr/bin
  fi
  for d in /var/lib/pgsql/*/data /var/lib/pgsql/data; do
    [ -f "$d/PG_VERSION" ] || continue
    v=; IFS= read -r v <"$d/PG_VERSION" 2>/dev/null || :
    [ -n "$v" ] || { v=\${d#/var/lib/pgsql/}; v=\${v%/data}; }
    orch_cluster "$v" data "$d" "$d" /tmp ''
  done
}

orch_pg_freebsd() {
  [ -x /usr/local/bin/postgres ] || return 0
  full=$(/usr/local/bin/postgres --version 2>/dev/null | sed -n 's/.*[[:space:]]\([0-9][0-9.]*\).*/\1/p' | head -n 1)
  v=\${full%%.*}
  case $v in [0-9]) v=$(echo "$full" | cut -d. -f1,2) ;; esac
  [ -n "$v" ] || return 0
  printf 'bin\tversion=%s\tdir=%s\n' "$v" /usr/local/bin
  data=$(sysrc -n postgresql_data 2>/dev/null)
  [ -n "$data" ] || data=/var/db/postgres/data$(echo "$v" | tr -d .)
  enable=$(sysrc -n postgresql_enable 2>/dev/null)
  [ -f "$data/PG_VERSION" ] || [ -f "$data/postgresql.conf" ] || return 0
  orch_cluster "$v" data "$data" "$data" /tmp "$(printf '\tenable=%s' "$enable")"
}

orch_facts() {
  orch_m begin
  orch_m uname
  # One uname for all four (it prints them in the order s n r m whatever the order asked); one each when a field
  # held a space.
  set -f
  # shellcheck disable=SC2046 # split on purpose: four words expected
  set -- $(uname -s -n -r -m 2>/dev/null)
  set +f
  if [ "$#" != 4 ]; then set -- "$(uname -s 2>/dev/null)" "$(uname -n 2>/dev/null)" "$(uname -r 2>/dev/null)" "$(uname -m 2>/dev/null)"; fi
  kernel=$1
  printf 's=%s\nr=%s\nm=%s\n' "$1" "$3" "$4"

  orch_m hostname
  printf '%s\n' "$2"

  orch_m os-release
  if [ "$kernel" = Linux ]; then
    for orch_f in /etc/os-release /usr/lib/os-release; do
      [ -r "$orch_f" ] || continue
      while IFS= read -r orch_l || [ -n "$orch_l" ]; do printf '%s\n' "$orch_l"; done <"$orch_f"
      break
    done
  fi

  orch_m freebsd-version
  if [ "$kernel" = FreeBSD ]; then
    freebsd-version 2>/dev/null || true
  fi

  orch_m init
  if [ -d /run/systemd/system ]; then echo systemd
  elif [ "$kernel" = FreeBSD ]; then echo rc.d
  elif [ -d /etc/init.d ]; then echo sysvinit
  else echo unknown
  fi

  orch_m pkgtool
  for t in apt-get dnf yum pkg; do
    if command -v "$t" >/dev/null 2>&1; then echo "$t"; break; fi
  done

  orch_m pguser
  # postgres in /etc/passwd needs no process; id asks NSS otherwise (LDAP, sssd), as it always did.
  orch_pgu=
  if [ -r /etc/passwd ]; then
    while IFS= read -r orch_l; do
      case $orch_l in postgres:*) orch_pgu=postgres; break ;; esac
    done </etc/passwd
  fi
  if [ -n "$orch_pgu" ]; then echo "$orch_pgu"
  elif id postgres >/dev/null 2>&1; then echo postgres
  elif id pgsql >/dev/null 2>&1; then echo pgsql
  fi

  orch_m postgres
  if [ "$kernel" = FreeBSD ]; then orch_pg_freebsd
  elif [ -d /usr/lib/postgresql ] || [ -d /etc/postgresql ]; then orch_pg_debian
  else orch_pg_redhat
  fi

  orch_m end
}

orch_facts </dev/null 2>/dev/null || true
exit 0
`;

/** The facts probe as one /bin/sh script; send it on stdin (`/bin/sh -s`). */
export function factsScript(): string {
  // String.raw keeps sed's backslashes as written; parameter expansions are written \${...} there so the
  // template literal does not interpolate them, and are restored here.
  return SCRIPT.replaceAll('\\${', '${');
}
