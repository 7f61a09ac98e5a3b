#!/bin/sh
# Install what orch's lab (integration tests, bench, demo) needs on a Debian 12 machine, through apt-get, only
# when missing: openssh-server, sudo, PostgreSQL 15, iproute2, util-linux, procps, busybox (its sh is one of the
# shells the generated scripts are tested under), shellcheck (the unit tests check the generated shell with it),
# tcsh (FreeBSD's root shell up to 13: the su fallback is tested under csh), strace (counts the processes the
# generated shell starts), opendoas (become by doas(1) is tested on lab hosts), and for the booted lab hosts debootstrap (builds their images) and systemd-container
# (systemd-nspawn boots them).
# Idempotent: when everything is installed it changes nothing and does not even run `apt-get update`.
# Services are never started in the root namespace: a policy-rc.d refusing every start is in place during the
# install (an existing one is left alone), and nothing here starts sshd or PostgreSQL afterwards.
set -eu

PACKAGES="openssh-server sudo postgresql-15 iproute2 util-linux procps busybox shellcheck debootstrap systemd-container tcsh strace opendoas"
POLICY=/usr/sbin/policy-rc.d

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -n -- "$0" "$@"; fi
  echo "ci-deps.sh: run as root" >&2
  exit 1
fi

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=""
for pkg in $PACKAGES; do
  installed "$pkg" || missing="$missing $pkg"
done

if [ -n "$missing" ]; then
  echo "ci-deps.sh: installing:$missing"
  own_policy=no
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# orch ci-deps.sh: no service starts during package installs\nexit 101\n' > "$POLICY"
    chmod 0755 "$POLICY"
    own_policy=yes
  fi
  cleanup() { if [ "$own_policy" = yes ]; then rm -f "$POLICY"; fi; }
  trap cleanup EXIT INT TERM
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get install -y -q --no-install-recommends $missing
  cleanup
  trap - EXIT INT TERM
else
  echo "ci-deps.sh: all present ($PACKAGES)"
fi

# The lab runs PostgreSQL inside its hosts from the base cluster 15/main; create it (not started) if absent.
if [ ! -d /etc/postgresql/15/main ] && command -v pg_createcluster >/dev/null 2>&1; then
  pg_createcluster 15 main
fi

# Lab hosts have no route out: a small local apt repository lets pkg states install for real in tests.
bash "$(dirname "$0")/lab-apt-repo.sh"
