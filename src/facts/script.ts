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

# Last value of a postgresql.conf setting (quoted or bare; '=' optional), empty when unset or unreadable.
orch_conf() {
  [ -r "$1" ] || return 0
  sed -n -e "s/^[[:space:]]*$2[[:space:]=][[:space:]=]*'\([^']*\)'.*/\1/p" \
         -e "s/^[[:space:]]*$2[[:space:]=][[:space:]=]*\([^[:space:]#']\{1,\}\).*/\1/p" "$1" 2>/dev/null | tail -n 1
}

# yes when a live process holds the pid in the first line of file $1.
orch_pidfile_alive() {
  [ -r "$1" ] || return 1
  orch_pid=$(sed -n 1p "$1" 2>/dev/null)
  case $orch_pid in ''|*[!0-9]*) return 1 ;; esac
  kill -0 "$orch_pid" 2>/dev/null || ps -p "$orch_pid" >/dev/null 2>&1
}

# running state of a cluster: the postmaster.pid in its data dir, else the socket lock file (world-readable,
# so this still answers when the data dir is closed to us).
orch_running() {
  if [ -r "$1/postmaster.pid" ]; then
    if orch_pidfile_alive "$1/postmaster.pid"; then echo yes; else echo no; fi
  elif [ -r "$2/.s.PGSQL.$3.lock" ]; then
    if orch_pidfile_alive "$2/.s.PGSQL.$3.lock"; then echo yes; else echo no; fi
  elif [ -e "$1/PG_VERSION" ]; then
    echo no
  else
    echo unknown
  fi
}

# One cluster line: version name data conf default-socket [extra key=value]
orch_cluster() {
  orch_port=$(orch_conf "$4/postgresql.conf" port)
  case $orch_port in ''|*[!0-9]*) orch_port=5432 ;; esac
  orch_sock=$(orch_conf "$4/postgresql.conf" unix_socket_directories | sed 's/,.*//; s/^[[:space:]]*//; s/[[:space:]]*$//')
  [ -n "$orch_sock" ] || orch_sock=$5
  # Values come from files the PostgreSQL account may own: a tab would forge a field of the line, so skip them.
  case "$1$2$3$4$orch_sock" in *"$(printf '\t')"*) return 0 ;; esac
  orch_run=$(orch_running "$3" "$orch_sock" "$orch_port")
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
    data=$(orch_conf "$c" data_directory)
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
    v=$(sed -n 1p "$d/PG_VERSION" 2>/dev/null)
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
  # One uname for all three (it prints them in this order whatever the order asked); three when a field held a space.
  set -f
  # shellcheck disable=SC2046 # split on purpose: three words expected
  set -- $(uname -s -r -m 2>/dev/null)
  set +f
  if [ "$#" != 3 ]; then set -- "$(uname -s 2>/dev/null)" "$(uname -r 2>/dev/null)" "$(uname -m 2>/dev/null)"; fi
  kernel=$1
  printf 's=%s\nr=%s\nm=%s\n' "$1" "$2" "$3"

  orch_m hostname
  hostname 2>/dev/null || uname -n 2>/dev/null || true

  orch_m os-release
  if [ "$kernel" = Linux ]; then
    cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true
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
  if id postgres >/dev/null 2>&1; then echo postgres
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
