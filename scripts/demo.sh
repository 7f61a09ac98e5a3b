#!/usr/bin/env bash
# The main job on the embedded default: bring up the lab (two real hosts on this machine), converge them with the
# replication formula, and show the cluster. Run as root from the repository root: npm run demo
set -euo pipefail
cd "$(dirname "$0")/.."
orch() { node dist/src/cli/main.js "$@"; }

# The pillar's secrets are encrypted to the public demo key; use it unless an identity is configured.
demo_key=""
if [ -z "${ORCH_AGE_IDENTITY:-}" ] && [ -z "${ORCH_AGE_IDENTITY_FILE:-}" ] && [ ! -f "${XDG_CONFIG_HOME:-$HOME/.config}/orch/identity.txt" ]; then
  chmod 600 test/fixtures/secrets/demo-identity.txt
  demo_key="$PWD/test/fixtures/secrets/demo-identity.txt"
  export ORCH_AGE_IDENTITY_FILE="$demo_key"
fi
# This script's environment ends with it: say what the README's commands need in the user's shell.
next_steps() {
  if [ -n "$demo_key" ]; then
    echo "== the demo used the demo key; to run the README's commands in this shell, paste:"
    echo "export ORCH_AGE_IDENTITY_FILE=\"$demo_key\""
  fi
}

bash scripts/ci-deps.sh
echo "== orch lab up   (fresh hosts: any earlier demo hosts are taken down first)"
orch lab down primary.example.com replica.example.com >/dev/null 2>&1 || true
orch lab up
echo "== orch run '*' -- hostname"
orch run '*' -- hostname
echo "== orch facts '*'"
orch facts '*'
echo "== orch apply '*' --test   (what would change; writes nothing)"
orch apply '*' --test || true
echo "== orch apply '*'"
orch apply '*' --stats
echo "== orch apply '*' again   (converged: no changes)"
orch apply '*' --stats
echo "== orch pg status"
orch pg status
echo "== a row written on the primary is read on the replica"
stamp="demo-$(date +%s)"
orch run primary.example.com -- su postgres -s /bin/sh -c "psql -X -q -c 'CREATE TABLE IF NOT EXISTS orch_demo(note text)' -c \"INSERT INTO orch_demo VALUES ('$stamp')\""
for _ in $(seq 1 20); do
  seen=$(orch run replica.example.com -- su postgres -s /bin/sh -c "psql -X -At -c \"SELECT note FROM orch_demo WHERE note = '$stamp'\"" || true)
  if printf '%s' "$seen" | grep -q "$stamp"; then
    echo "replica has $stamp"
    next_steps
    exit 0
  fi
  sleep 0.5
done
echo "replica did not receive $stamp" >&2
exit 1
