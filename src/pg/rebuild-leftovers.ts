// The copies pg_make_replica left on a host, for `orch pg status`: each data directory it worked on is named in
// its state directory (<ck>.dir); beside each, `*.orch-old-*` (kept by a forced rebuild) and `*.orch-failed-*`
// (a rolled-back copy) with their size, and any record of a rebuild that was interrupted (<ck>.state). One
// read-only exec; parsing and the warnings are pure.
import type { Connection } from '../transport/types.js';
import { shQuote } from '../shell/quote.js';

/** Where pg_make_replica keeps its records (Linux, FreeBSD). */
export const REPLICA_STATE_DIRS = ['/var/lib/orch/pg_make_replica', '/var/db/orch/pg_make_replica'];

export interface LeftoverCopy {
  dataDir: string;
  path: string;
  kind: 'old' | 'failed';
  /** Size in bytes (du -k), null when it could not be read. */
  bytes: number | null;
}

export interface PendingRebuild {
  dataDir: string;
  step: string;
  startedAt: string;
}

export interface HostLeftovers {
  copies: LeftoverCopy[];
  pending: PendingRebuild[];
}

const FS = '\x1f';

/** The read-only script: one line per copy and per pending record, fields split by the unit separator. */
export function leftoverScript(dirs: string[] = REPLICA_STATE_DIRS): string {
  return `LC_ALL=C; export LC_ALL
cd / || exit 1
fs=$(printf '\\037')
for sd in ${dirs.map(shQuote).join(' ')}; do
  [ -d "$sd" ] || continue
  for rec in "$sd"/*.dir; do
    [ -f "$rec" ] || continue
    d=$(head -n 1 -- "$rec")
    case $d in /*) ;; *) continue ;; esac
    for l in "$d".orch-old-* "$d".orch-failed-*; do
      [ -e "$l" ] || [ -L "$l" ] || continue
      kb=$(du -sk -- "$l" 2>/dev/null | awk 'NR == 1 {print $1}')
      printf 'copy%s%s%s%s%s%s\\n' "$fs" "$d" "$fs" "$l" "$fs" "$kb"
    done
    st=\${rec%.dir}.state
    if [ -f "$st" ]; then
      printf 'pending%s%s%s%s%s%s\\n' "$fs" "$d" "$fs" "$(sed -n 's/^step=//p' "$st" | head -n 1)" "$fs" "$(sed -n 's/^ts=//p' "$st" | head -n 1)"
    fi
  done
done
echo "leftovers-end"
`;
}

/** Parse the script's output. */
export function parseLeftovers(stdout: string): HostLeftovers {
  const out: HostLeftovers = { copies: [], pending: [] };
  for (const line of stdout.split('\n')) {
    const f = line.split(FS);
    if (f[0] === 'copy' && f.length === 4) {
      const [, dataDir, p, kb] = f as [string, string, string, string];
      const kind = p.startsWith(`${dataDir}.orch-old-`) ? 'old' : 'failed';
      out.copies.push({ dataDir, path: p, kind, bytes: /^\d+$/.test(kb) ? Number(kb) * 1024 : null });
    } else if (f[0] === 'pending' && f.length === 4) {
      out.pending.push({ dataDir: f[1]!, step: f[2]!, startedAt: f[3]! });
    }
  }
  return out;
}

/** Collect on one host; a host where nothing can be read has nothing to report. */
export async function collectLeftovers(conn: Connection, timeoutMs = 30_000): Promise<HostLeftovers> {
  const res = await conn.runScript(leftoverScript(), { timeoutMs });
  return parseLeftovers(res.stdout);
}

const mb = (b: number | null) => (b === null ? '? MB' : `${Math.round(b / 1048576)} MB`);

/** The warnings `orch pg status` prints for a host's leftovers. */
export function leftoverWarnings(host: string, l: HostLeftovers): string[] {
  return [
    ...l.copies.map(
      (c) =>
        `${host}: ${c.kind === 'old' ? 'old data directory' : 'failed copy'} ${c.path} (${mb(c.bytes)}) left by a rebuild of ${c.dataDir}`,
    ),
    ...l.pending.map(
      (p) =>
        `${host}: a rebuild of ${p.dataDir} started ${p.startedAt} was interrupted at step '${p.step}'; the next orch apply resumes or rolls it back`,
    ),
  ];
}
