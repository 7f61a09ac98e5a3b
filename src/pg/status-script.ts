// The read-only /bin/sh script behind `orch pg status`: finds the running PostgreSQL servers on a host by their
// unix sockets and asks each, as the PostgreSQL OS user, for its role, upstream, lag, slots and timeline.
// One exec per host; it only runs SELECTs. psql is the connector's orch_psql (connector.ts); the rows come back
// with unit-separated fields between @@ lines, parsed by status-parse.ts.
import { RUN_AS_FUNCTION } from '../shell/actor.js';
import { shQuote } from '../shell/quote.js';
import { ORCH_PSQL_FUNCTION } from './connector.js';

export interface StatusScriptOptions {
  /** PostgreSQL OS user (default: postgres, else pgsql when only that exists). */
  pgUser?: string;
  /** Only this port. */
  port?: number;
  /** Look for sockets here first (default /var/run/postgresql, /tmp). */
  socketDir?: string;
}

// Fields are separated by the ASCII unit separator, which no value we read can hold.
export const FS = '\x1f';

// Same statement on a primary and a standby: the standby-only functions return NULL on a primary.
const NODE_SQL = `SELECT 'node', pg_is_in_recovery(), current_setting('server_version_num'),
 (SELECT timeline_id FROM pg_control_checkpoint()),
 coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint::text, ''),
 coalesce((CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
   ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END)::text, '')`;
const RECEIVER_SQL = `SELECT 'receiver', status, coalesce(slot_name, ''), coalesce(conninfo, '') FROM pg_stat_wal_receiver`;
const REPL_SQL = `SELECT 'repl', coalesce(application_name, ''), coalesce(host(client_addr), ''), coalesce(state, ''),
 coalesce(sync_state, ''), coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text, ''),
 coalesce(extract(epoch FROM write_lag)::text, ''), coalesce(extract(epoch FROM flush_lag)::text, ''),
 coalesce(extract(epoch FROM replay_lag)::text, '') FROM pg_stat_replication`;
const slotSql = (walStatus: string): string =>
  `SELECT 'slot', slot_name, slot_type, active, ${walStatus},
 coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text, '') FROM pg_replication_slots`;

/** The status script for one host. */
export function pgStatusScript(opts: StatusScriptOptions = {}): string {
  const dirs = [opts.socketDir, '/var/run/postgresql', '/tmp'].filter((d): d is string => !!d);
  // psql runs as the PostgreSQL user, who cannot enter root's home (sshd's cwd): without this, its
  // "could not change directory" warning lands in the answers.
  return `LC_ALL=C; export LC_ALL
cd / || exit 1
PATH=/usr/local/bin:/usr/bin:/bin:$PATH
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD
FS=$(printf '\\037')
pg_user=${shQuote(opts.pgUser ?? '')}
if [ -z "$pg_user" ]; then
  if id postgres >/dev/null 2>&1; then pg_user=postgres; elif id pgsql >/dev/null 2>&1; then pg_user=pgsql; else pg_user=postgres; fi
fi
psql_bin=
for p in $(command -v psql 2>/dev/null) /usr/lib/postgresql/*/bin/psql /usr/pgsql-*/bin/psql /usr/local/bin/psql /usr/bin/psql; do
  if [ -x "$p" ]; then psql_bin=$p; fi
done
${RUN_AS_FUNCTION}
${ORCH_PSQL_FUNCTION}
orch_pg_psql=$psql_bin
q() { printf '%s\\n' "$1" | orch_psql "$pg_user" "$dir" "$port" postgres '' -F "$FS" 2>&1; }
echo "@@begin"
[ -n "$psql_bin" ] || { echo "@@error\${FS}psql not found"; exit 0; }
seen=
for dir in ${dirs.map(shQuote).join(' ')}; do
  for s in "$dir"/.s.PGSQL.*; do
    [ -S "$s" ] || continue
    port=\${s##*.}
    case $port in *[!0-9]*) continue ;; esac
    ${opts.port ? `[ "$port" = ${opts.port} ] || continue` : ':'}
    case " $seen " in *" $port "*) continue ;; esac
    seen="$seen $port"
    echo "@@cluster\${FS}$dir\${FS}$port"
    if ! out=$(q ${shQuote(NODE_SQL)}); then echo "@@error\${FS}$(printf '%s' "$out" | tr '\\n' ' ')"; continue; fi
    printf '%s\\n' "$out"
    case $out in
      *"\${FS}t\${FS}"*) q ${shQuote(RECEIVER_SQL)} ;;
      *)
        q ${shQuote(REPL_SQL)}
        v=$(printf '%s' "$out" | cut -d "$FS" -f3)
        # server_version_num is data from the server: digits only before it is compared as a number.
        case $v in ''|*[!0-9]*|?????????*) echo "@@error\${FS}unexpected server_version_num: $(printf '%s' "$v" | tr -cd '[:print:]' | cut -c1-80)"; continue ;; esac
        if [ "$v" -ge 130000 ]; then q ${shQuote(slotSql('wal_status'))}; else q ${shQuote(slotSql("''"))}; fi
        ;;
    esac
  done
done
echo "@@end"
`;
}
