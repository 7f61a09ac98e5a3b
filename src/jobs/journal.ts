// The local journal of a run whose job store failed: what the hosts reported and how the job ended, appended as
// JSON lines to <stateDir>/journal/<jid>.jsonl (directory 0700, file 0600; values already masked), and written to
// the store by the next orch that opens it. Nothing here decides exit codes; record.ts does.
import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  fsyncSync,
} from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { PRIVATE_FILE_MODE, privateDir } from './file-modes.js';
import { isJid } from './jid.js';
import { FINAL_STATUSES, type JobStatus, type JobStore } from './store.js';

export type JournalEntry =
  | { kind: 'host'; host: string; status: string; result: unknown; at: string }
  | {
      kind: 'finish';
      status: JobStatus;
      exitCode: number;
      summary?: Record<string, unknown>;
      at: string;
    };

export function journalDir(stateDir: string): string {
  return path.join(stateDir, 'journal');
}

export function journalFile(stateDir: string, jid: string): string {
  return path.join(journalDir(stateDir), `${jid}.jsonl`);
}

/** Append one entry, durably (the store is already failing: this is the only copy). Returns the file. */
export function appendJournal(stateDir: string, jid: string, entry: JournalEntry): string {
  privateDir(journalDir(stateDir), true);
  const file = journalFile(stateDir, jid);
  const fd = openSync(file, 'a', PRIVATE_FILE_MODE);
  try {
    appendFileSync(fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return file;
}

export interface ReplayReport {
  written: string[];
  kept: { jid: string; why: string }[];
}

/** Write every finished journal to the store and remove it. A journal without its end is replayed only once its
 * job no longer runs (its run may still be going and will write its end). Never throws. */
export async function replayJournals(store: JobStore, stateDir: string): Promise<ReplayReport> {
  const report: ReplayReport = { written: [], kept: [] };
  let names: string[];
  try {
    names = readdirSync(journalDir(stateDir)).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return report;
  }
  for (const name of names) {
    const jid = name.slice(0, -'.jsonl'.length);
    if (!isJid(jid)) continue;
    const file = path.join(journalDir(stateDir), name);
    try {
      const entries = parse(readFileSync(file, 'utf8'));
      const job = await store.get(jid);
      if (!job) {
        report.kept.push({ jid, why: 'no such job in this store' });
        continue;
      }
      const end = entries.filter((e) => e.kind === 'finish').pop();
      if (!end && job.status === 'running') {
        report.kept.push({ jid, why: 'its run has not ended' });
        continue;
      }
      for (const e of entries) {
        if (e.kind === 'host') await store.putHostResult(jid, e.host, e.status, e.result);
      }
      if (end && FINAL_STATUSES.includes(end.status)) {
        // The run's own ending is the truth, also over an "interrupted" a reader gave it when its lease ran out.
        await store.finish(jid, end.status, end.exitCode, {
          ...(end.summary ?? {}),
          recordedLate: `kept in the local journal at ${end.at}, written to the store later`,
        });
      }
      unlinkSync(file);
      report.written.push(jid);
    } catch (err) {
      report.kept.push({ jid, why: errorMessage(err) });
    }
  }
  return report;
}

function parse(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // A line cut by a crash: the entries before it still count.
    }
  }
  return out;
}
