// The PostgreSQL connector: the one place that writes how orch talks to a host's PostgreSQL from the shell, for the
// postgres.* states, drift's probe and `orch pg status`. psql runs as the PostgreSQL OS user through orch_run_as
// (src/shell/actor.ts) over the unix socket (directory, port, database from the target resolved on the controller),
// always `-X -q -A -t -v ON_ERROR_STOP=1`, SQL piped in from printContent (never on argv). A check reports through
// kv (pg = missing | down | up | failed, result = one JSON line, error = psql's messages) and readProbe reads that
// on the controller through its schema; apply SQL talks back through `orch:` marker lines (changed, fail, say, kv).
// SQL text is quoted only by src/sql/. Builds text only.
import { z } from 'zod';
import { kvDigits, kvText, readKv } from '../shell/kv.js';
import type { StepOutput } from '../shell/protocol.js';
import { hereDocument, printContent, shQuote } from '../shell/quote.js';
import { connstrProblem, type PgTarget } from './target.js';

/** The psql options of every call: no psqlrc, quiet, unaligned, tuples only, stop at the first error. */
export const PSQL_OPTIONS = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'] as const;

/**
 * Shell function `orch_psql <os_user> <socket_dir> <port> <db> [db_user [psql option...]]`: runs `$orch_pg_psql`
 * as the OS user (orch_run_as, which the caller defines: the batch preamble does), from / so that user needs no
 * access to the caller's working directory, with the SQL on its stdin. An empty db_user means psql's default.
 */
export const ORCH_PSQL_FUNCTION = `orch_psql() {
  orch_pg_u=$1; orch_pg_s=$2; orch_pg_p=$3; orch_pg_d=$4; orch_pg_r=\${5:-}
  if [ "$#" -gt 5 ]; then shift 5; else set --; fi
  if [ -n "$orch_pg_r" ]; then set -- -U "$orch_pg_r" "$@"; fi
  set -- "$orch_pg_psql" ${PSQL_OPTIONS.join(' ')} -h "$orch_pg_s" -p "$orch_pg_p" -d "$orch_pg_d" "$@"
  # The cd happens in the shell that then execs psql as that user, not in a subshell of ours: one process less per
  # call (none at all when we are at / already, as pg_make_replica is).
  if [ "$PWD" = / ]; then orch_run_as "$orch_pg_u" "$@"
  else orch_run_as "$orch_pg_u" /bin/sh -c 'cd / && exec "$@"' orch_psql "$@"; fi
}`;

/** Shell functions of a step that runs SQL: orch_psql, and orch_pg_markers reading apply output's marker lines. */
export const PSQL_FUNCTIONS = `${ORCH_PSQL_FUNCTION}
orch_pg_markers() {
  orch_pg_failed=
  while IFS= read -r orch_pg_line; do
    case $orch_pg_line in
      orch:changed) orch_changed=1 ;;
      orch:fail:*) echo "\${orch_pg_line#orch:fail:}"; orch_pg_failed=1 ;;
      orch:say:*) echo "\${orch_pg_line#orch:say:}" ;;
      orch:kv:*=*) orch_pg_kv=\${orch_pg_line#orch:kv:}; orch_kv "\${orch_pg_kv%%=*}" "\${orch_pg_kv#*=}" ;;
    esac
  done < "$1"
  [ -z "$orch_pg_failed" ]
}`;

/** Variable setup: psql of the target's version when present, else psql from PATH; a private temp dir. */
export function psqlSetup(t: PgTarget): string {
  const bin = t.binDir ? `${t.binDir}/psql` : '';
  return `${PSQL_FUNCTIONS}
orch_pg_psql=${shQuote(bin)}
if [ ! -x "$orch_pg_psql" ]; then orch_pg_psql=$(command -v psql 2>/dev/null || true); fi
orch_pg_tmp=$(mktemp -d "\${TMPDIR:-/tmp}/orch-pg.XXXXXX")
trap 'rm -rf "$orch_pg_tmp"' EXIT`;
}

/** The orch_psql command line for a target (database defaults to the target's maintenance database). */
export function psqlCall(t: PgTarget, db = t.db): string {
  const problem = connstrProblem(db);
  if (problem) throw new Error(`database name ${JSON.stringify(db)} ${problem}`);
  const words = ['orch_psql', t.osUser, t.socketDir, String(t.port), db];
  if (t.dbUser) words.push(t.dbUser);
  return words.map((w, i) => (i === 0 ? w : shQuote(w))).join(' ');
}

/** Shell condition: the server's unix socket exists (the server is, or recently was, running). */
export function socketPresent(t: PgTarget): string {
  return `[ -S ${shQuote(`${t.socketDir}/.s.PGSQL.${t.port}`)} ]`;
}

/**
 * SQL piped into `<call>`, stdout to $orch_pg_tmp/<out>, stderr to <out>.err; ends with a newline and is usable as
 * a condition (the pipeline's status is psql's).
 */
export function psqlHeredoc(t: PgTarget, sql: string, out: string, db?: string): string {
  return `${printContent(sql, `| ${psqlCall(t, db)} >"$orch_pg_tmp/${out}" 2>"$orch_pg_tmp/${out}.err"`)}\n`;
}

/**
 * Check-step body: report kv `pg` = missing | down | up | failed; when up, kv `result` holds the query's output
 * (one JSON line); when failed, kv `error` holds psql's messages. Read-only as long as the SQL is. The SQL goes in as
 * a here-document, not a printf pipeline: two processes less on every host for every check.
 */
export function checkQuery(t: PgTarget, sql: string): string {
  return `${psqlSetup(t)}
if [ -z "$orch_pg_psql" ]; then orch_kv pg missing
elif ! ${socketPresent(t)}; then orch_kv pg down
elif ${hereDocument(`${psqlCall(t)} >"$orch_pg_tmp/q" 2>"$orch_pg_tmp/q.err"`, sql)}then orch_kv pg up; orch_kvfile result "$orch_pg_tmp/q"
else orch_pg_rc=$?; orch_kv pg failed; orch_kv rc "$orch_pg_rc"; orch_kvfile error "$orch_pg_tmp/q.err"
fi`;
}

/** Apply-step piece: fail unless psql exists and the server's socket is there. */
export function requireRunning(t: PgTarget): string {
  return `if [ -z "$orch_pg_psql" ]; then echo 'psql not found: is PostgreSQL installed?'; exit 1; fi
if ! ${socketPresent(t)}; then echo ${shQuote(`PostgreSQL is not running (no socket in ${t.socketDir} for port ${t.port})`)}; exit 1; fi`;
}

/**
 * Apply-step piece: run SQL, print psql's messages, turn `orch:` marker lines into orch_changed / kv / failure.
 * `name` tells apart several runs in one step.
 */
export function applySql(t: PgTarget, sql: string, name = 'a', db?: string): string {
  return `if ${psqlHeredoc(t, sql, name, db)}then :
else orch_pg_rc=$?; cat "$orch_pg_tmp/${name}.err"; echo "psql failed (exit $orch_pg_rc)"; exit 1
fi
cat "$orch_pg_tmp/${name}.err"
orch_pg_markers "$orch_pg_tmp/${name}" || exit 1`;
}

/** psql: print a constant marker line (text is restricted so it needs no psql quoting). */
export function psqlEcho(text: string): string {
  if (!/^[A-Za-z0-9 :_=.,()/-]*$/.test(text)) throw new Error(`unsafe text for \\echo: ${text}`);
  return `\\echo '${text}'`;
}

export const SQL_CHANGED = psqlEcho('orch:changed');

/** psql: report a failure the apply step turns into a non-zero exit. */
export function sqlFail(message: string): string {
  return psqlEcho(`orch:fail:${message}`);
}

/**
 * Session settings so statements (which may carry password verifiers) stay out of the server log; only a
 * superuser may change them, so they are skipped otherwise.
 */
export const SQL_QUIET_LOGS = `SELECT rolsuper AS orch_su FROM pg_roles WHERE rolname = current_user \\gset
\\if :orch_su
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
\\endif`;

export type PgProbe =
  | { kind: 'missing' }
  | { kind: 'down'; detail: string }
  | { kind: 'error'; detail: string }
  | { kind: 'up'; result: string };

// psql's messages when nothing listens (stale socket, server starting or stopping).
const NOT_RUNNING =
  /No such file or directory|Connection refused|the database system is (starting up|shutting down)|not yet accepting connections/;

/** What checkQuery prints: pg, then result when up, rc and error when psql failed. No pg: the step died first. */
const checkQueryKv = z.object({
  pg: z.enum(['missing', 'down', 'up', 'failed']).optional(),
  result: kvText.optional(),
  rc: kvDigits.optional(),
  error: kvText.optional(),
});

/** Read what checkQuery reported. */
export function readProbe(out: Pick<StepOutput, 'kv' | 'status' | 'text'>): PgProbe {
  const read = readKv(checkQueryKv, out);
  if (!read.ok) return { kind: 'error', detail: read.error };
  const kv = read.kv;
  if (kv.pg === 'missing') return { kind: 'missing' };
  if (kv.pg === 'down') return { kind: 'down', detail: 'no server socket' };
  if (kv.pg === 'up') return { kind: 'up', result: (kv.result ?? '').trim() };
  if (kv.pg === 'failed') {
    const detail = (kv.error ?? '').trim();
    return kv.rc === '2' && NOT_RUNNING.test(detail) ? { kind: 'down', detail } : { kind: 'error', detail };
  }
  return { kind: 'error', detail: out.text || `check step ended with status ${String(out.status)}` };
}

/** Parse the JSON line a check query printed (null when the object does not exist). */
export function parseResult<T>(p: { result: string }): T | null {
  const line = p.result.split('\n').find((l) => l.trim() !== '') ?? 'null';
  return JSON.parse(line) as T | null;
}
