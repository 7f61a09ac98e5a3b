// pg_rewind on a stopped former primary, as the PostgreSQL user, from the current primary over the network (the
// replication role, its .pgpass and the pg_hba line for the postgres database the formula already gives every
// node). pg_rewind copies the source's configuration files that live in the data directory (postgresql.auto.conf;
// postgresql.conf and pg_hba.conf too where they live there, as on FreeBSD and RHEL): the target's own are saved
// before and put back after, whatever the outcome; a file the target did not have is removed again.
import { shQuote } from '../../shell/quote.js';
import { quoteIdent } from '../../sql/quote.js';
import type { PgNode } from './node.js';
import { runOn, sql } from './remote.js';

/** Configuration files pg_rewind would overwrite in a data directory; /etc/postgresql (Debian) is not touched. */
export const LOCAL_CONFIG = [
  'postgresql.conf',
  'postgresql.auto.conf',
  'pg_hba.conf',
  'pg_ident.conf',
  'conf.d',
] as const;

// Functions pg_rewind calls on its source; a non-superuser needs EXECUTE on them (PostgreSQL 11+). The formula's
// postgres.rewind_grants state grants them on the primary; the verb grants them again before a rewind (a no-op then).
export const REWIND_FUNCTIONS = [
  'pg_catalog.pg_ls_dir(text, boolean, boolean)',
  'pg_catalog.pg_stat_file(text, boolean)',
  'pg_catalog.pg_read_binary_file(text)',
  'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)',
];

/** The GRANTs that let role be pg_rewind's source user (they replicate to every standby). */
export function rewindGrants(role: string): string[] {
  return REWIND_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${quoteIdent(role)}`);
}

/** Grant the replication role what pg_rewind needs on the primary. */
export function grantRewind(primary: PgNode, role: string): Promise<string> {
  return sql(primary, 'grant the rewind functions', rewindGrants(role));
}

// Runs as the PostgreSQL user, whole: the data directory and its parent are that account's, so it could swap
// either for a symlink while pg_rewind runs, and root would then remove and copy files wherever the link leads.
// $1 data directory, $2 bin directory, $3 source conninfo, $4 non-empty for a dry run.
const REWIND_AS_PG = `DATA=$1 BIN=$2 SRC=$3 DRY=$4
SAVE=$(mktemp -d "\${TMPDIR:-/tmp}/orch-rejoin.XXXXXX" 2>/dev/null || mktemp -d /tmp/orch-rejoin.XXXXXX) || exit 1
trap 'rm -rf "$SAVE"' EXIT
for f in ${LOCAL_CONFIG.map((f) => shQuote(f)).join(' ')}; do
  if [ -e "$DATA/$f" ]; then cp -pR "$DATA/$f" "$SAVE/" || exit 1; else : > "$SAVE/.absent-$f"; fi
done
"$BIN/pg_rewind" --target-pgdata="$DATA" --source-server="$SRC" \${DRY:+--dry-run} --progress 2>&1
rc=$?
for f in ${LOCAL_CONFIG.map((f) => shQuote(f)).join(' ')}; do
  if [ -e "$SAVE/$f" ]; then rm -rf "$DATA/$f" && cp -pR "$SAVE/$f" "$DATA/" || rc=1
  elif [ -e "$SAVE/.absent-$f" ]; then rm -rf "$DATA/$f" || rc=1; fi
done
exit $rc`;

/** The shell that runs pg_rewind (with --dry-run when dry) and keeps the local configuration files. */
export function rewindScript(sourceConninfo: string, dry: boolean): string {
  return `as_pg /bin/sh -c ${shQuote(REWIND_AS_PG)} orch-rewind "$DATA" "$BIN" ${shQuote(sourceConninfo)} ${dry ? '1' : "''"}`;
}

/** Run pg_rewind on the stopped target n; its output (the divergence point, or "no rewind required"). */
export function rewind(n: PgNode, sourceConninfo: string, dry: boolean): Promise<string> {
  return runOn(n, dry ? 'pg_rewind --dry-run' : 'pg_rewind', rewindScript(sourceConninfo, dry), 1_800_000);
}

/** The line of pg_rewind's output that says where the servers diverged (or that nothing needs rewinding). */
export function rewindSummary(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^pg_rewind:\s*/, '').trim());
  return (
    lines.find((l) => /^servers diverged at/.test(l)) ??
    lines.find((l) => /no rewind required/.test(l)) ??
    lines.filter(Boolean).slice(-1)[0] ??
    'done'
  );
}
