#!/usr/bin/env bash
# A tiny local apt repository for lab hosts, which have no route out: a few small .deb files fetched on this
# machine with `apt-get download`, indexed by hand (dpkg-deb -f), offered to lab hosts as a file: source.
# Run before `orch lab up` (lab hosts see the base system's files as they were when they started).
set -euo pipefail
REPO=${ORCH_LAB_APT_DIR:-/var/cache/orch-lab-apt}
PACKAGES=(hello)
mkdir -p "$REPO"
cd "$REPO"
for p in "${PACKAGES[@]}"; do
  if ! ls "${p}"_*.deb >/dev/null 2>&1; then
    apt-get download -q "$p" >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q "$p"; }
  fi
done
tmp=$(mktemp Packages.XXXXXX)
for deb in ./*.deb; do
  dpkg-deb -f "$deb"
  printf 'Filename: %s\nSize: %s\nSHA256: %s\n\n' "$deb" "$(stat -c %s "$deb")" "$(sha256sum "$deb" | cut -d' ' -f1)"
done > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" Packages
echo "lab apt repository: $REPO ($(grep -c '^Package:' Packages) package(s))"
