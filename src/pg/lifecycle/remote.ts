// What the lifecycle verbs run on a node, one exec each: a read of its state (server, WAL receiver, slots,
// pg_control), SQL as the PostgreSQL OS user over the unix socket, a fast stop, a start by the formula's service
// command, writing standby.signal or recovery.conf. Values reach the shell through shQuote and SQL through
// quoteLiteral only.
import { OrchError } from '../../errors.js';
import { RUN_AS_FUNCTION } from '../../shell/actor.js';
import { shQuote } from '../../shell/quote.js';
import { PSQL_OPTIONS } from '../connector.js';
import { quoteLiteral } from '../../sql/quote.js';
import type { PgNode } from './node.js';

const argv = (a: string[]): string => a.map(shQuote).join(' ');

/** The shell every step starts with: paths, as_pg (orch_run_as the PostgreSQL user) and q (psql with the
 * connector's options). */
export function prelude(n: PgNode): string {
  return `LC_ALL=C; export LC_ALL
cd / || exit 1
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD
BIN=${shQuote(n.binDir)}
DATA=${shQuote(n.dataDir)}
PGU=${shQuote(n.pgUser)}
${RUN_AS_FUNCTION}
as_pg() { orch_run_as "$PGU" "$@"; }
q() { as_pg "$BIN/psql" ${PSQL_OPTIONS.join(' ')} -h ${shQuote(n.socketDir)} -p ${n.port} -d postgres "$@"; }
running() { as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }
`;
}

/** Run body after the prelude on the node; its stdout, or COMMAND_FAILED with its stderr when it exits non-zero. */
export async function runOn(n: PgNode, what: string, body: string, timeoutMs = 180_000): Promise<string> {
  const res = await n.conn.runScript(`${prelude(n)}${body}\n`, { timeoutMs });
  if (res.code !== 0) {
    const detail = (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-3).join(' ').slice(0, 400);
    throw new OrchError('COMMAND_FAILED', `${n.host}: ${what} failed${detail ? `: ${detail}` : ''}`);
  }
  return res.stdout;
}

/** Run SQL commands, each its own psql -c (ALTER SYSTEM cannot run inside a transaction block). */
export function sql(n: PgNode, what: string, commands: string[], timeoutMs?: number): Promise<string> {
  return runOn(n, what, `q ${commands.map((c) => `-c ${shQuote(c)}`).join(' ')}`, timeoutMs);
}

/** Stop the server with a fast shutdown (the shutdown checkpoint goes to the connected standbys first). */
export function stopFast(n: PgNode): Promise<string> {
  return runOn(
    n,
    'fast shutdown',
    `running || exit 0\nas_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 120`,
  );
}

/** Start the server by the formula's service command and wait (at most 90 s) until it answers. */
export function startAndWait(n: PgNode, restart = false): Promise<string> {
  return runOn(
    n,
    restart ? 'restart' : 'start',
    `${argv(restart ? n.restart : n.start)} >/dev/null 2>&1 9>&- || { echo "the service command failed" >&2; exit 1; }
i=0
until q -c 'SELECT 1' >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -le 90 ] || { echo "the server did not answer within 90 s" >&2; exit 1; }
  sleep 1
done`,
  );
}

/** Make a stopped server start as a standby: standby.signal (12+), or recovery.conf (10, 11) with the settings. */
export function writeStandbyConfig(n: PgNode, recoveryConf?: string): Promise<string> {
  if (n.major >= 12)
    return runOn(
      n,
      'write standby.signal',
      `running && { echo "the server is running" >&2; exit 1; }
as_pg touch "$DATA/standby.signal"`,
    );
  if (recoveryConf === undefined) throw new OrchError('INTERNAL', 'recovery.conf text missing');
  return runOn(
    n,
    'write recovery.conf',
    `running && { echo "the server is running" >&2; exit 1; }
printf '%s' ${shQuote(recoveryConf)} | as_pg /bin/sh -c 'umask 077 && cat > "$1/recovery.conf"' w "$DATA"`,
  );
}

/** Point a running standby (12+) at a new upstream: ALTER SYSTEM, then reload (13+) or restart (12). */
export async function setUpstream(n: PgNode, conninfo: string, slot: string): Promise<void> {
  await sql(n, 'set primary_conninfo and primary_slot_name', [
    `ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(conninfo)}`,
    `ALTER SYSTEM SET primary_slot_name = ${quoteLiteral(slot)}`,
    ...(n.major >= 13 ? ['SELECT pg_reload_conf()'] : []),
  ]);
  if (n.major === 12) await startAndWait(n, true);
}

/** Physical slots created when missing (reserving WAL at once; on a standby from its last restartpoint). */
export function createSlots(n: PgNode, slots: string[]): Promise<string> {
  return sql(
    n,
    'create replication slots',
    slots.map(
      (s) =>
        `SELECT pg_create_physical_replication_slot(${quoteLiteral(s)}, true) WHERE NOT EXISTS ` +
        `(SELECT 1 FROM pg_replication_slots WHERE slot_name = ${quoteLiteral(s)})`,
    ),
  );
}

/** Drop these slots where they exist and are not in use. */
export function dropSlots(n: PgNode, slots: string[]): Promise<string> {
  return sql(
    n,
    'drop replication slots',
    slots.map(
      (s) =>
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots ` +
        `WHERE slot_name = ${quoteLiteral(s)} AND NOT active`,
    ),
  );
}

/** Promote a standby and wait for it to leave recovery (pg_promote on 12+, pg_ctl promote before). */
export function promote(n: PgNode): Promise<string> {
  if (n.major >= 12) return sql(n, 'promote', ['SELECT pg_promote(true, 60)'], 90_000);
  return runOn(n, 'promote', `as_pg "$BIN/pg_ctl" promote -D "$DATA" -w -t 60`, 90_000);
}
