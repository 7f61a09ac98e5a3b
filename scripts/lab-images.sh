#!/bin/sh
# Build the booted lab hosts' Debian images the tests need, when missing or built from an older recipe
# (orch lab image build is a no-op for an up-to-date image). Suites: $ORCH_LAB_SUITES or all three.
# Each takes a minute or two from the mirror in /etc/apt and about 600 MB under $ORCH_LAB_IMAGES
# (default /var/cache/orch-lab/images). Needs root, debootstrap and systemd-container (scripts/ci-deps.sh).
set -eu
cd "$(dirname "$0")/.."
SUITES="${ORCH_LAB_SUITES:-bullseye bookworm trixie}"
# shellcheck disable=SC2086 # word splitting of the suite list is intended
exec node --import tsx src/cli/main.ts lab image build $SUITES
