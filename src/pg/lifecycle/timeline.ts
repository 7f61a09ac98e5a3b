// Can a standby follow a primary without a rewind? Only when its timeline history is a prefix of the primary's:
// it is on the primary's timeline and not ahead of it, or on an ancestor timeline and not past the point where
// the primary's history left that timeline. Parsing is pure; reading the history file is one SELECT.
import { quoteLiteral } from '../../sql/quote.js';
import type { PgNode } from './node.js';
import { lsnValue } from './probe.js';
import { sql } from './remote.js';

export interface HistoryEntry {
  /** A parent timeline ... */
  tli: number;
  /** ... and the LSN where the next timeline branched off it. */
  switchpoint: string;
}

/** Parse a timeline history file: `<parent tli>\t<switchpoint>\t<reason>` per line. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (m) out.push({ tli: Number(m[1]), switchpoint: m[2]! });
  }
  return out;
}

/** Why a standby at (tli, lsn) cannot follow a primary at (ptli, plsn) with history; undefined when it can. */
export function divergence(
  standby: { tli: number; lsn: string },
  primary: { tli: number; lsn: string | null },
  history: readonly HistoryEntry[],
): string | undefined {
  if (standby.tli > primary.tli)
    return `it is on timeline ${standby.tli}, newer than the primary's ${primary.tli} (rewind or rebuild it)`;
  if (standby.tli === primary.tli) {
    if (primary.lsn && lsnValue(standby.lsn) > lsnValue(primary.lsn))
      return `it is at ${standby.lsn}, ahead of the primary at ${primary.lsn} on timeline ${primary.tli}`;
    return undefined;
  }
  const entry = history.find((h) => h.tli === standby.tli);
  if (!entry) return `its timeline ${standby.tli} is not in the primary's history (rewind or rebuild it)`;
  if (lsnValue(standby.lsn) > lsnValue(entry.switchpoint))
    return `it is at ${standby.lsn} on timeline ${standby.tli}, past the primary's switch point ${entry.switchpoint}: it has diverged (rewind or rebuild it)`;
  return undefined;
}

/** The primary's history file of timeline tli (none on timeline 1). */
export async function readHistory(p: PgNode, tli: number): Promise<HistoryEntry[]> {
  if (tli <= 1) return [];
  const file = `pg_wal/${tli.toString(16).toUpperCase().padStart(8, '0')}.history`;
  return parseHistory(
    await sql(p, 'read the timeline history', [`SELECT pg_read_file(${quoteLiteral(file)})`]),
  );
}
