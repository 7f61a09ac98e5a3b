// The local journal: entries appended as 0600 JSON lines under <stateDir>/journal (0700), replayed into the store
// and removed once written; a journal of a run still going is left for later, one of an unknown job is kept.
import { strict as assert } from 'node:assert';
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendJournal, journalDir, journalFile, replayJournals } from '../../../src/jobs/journal.js';
import { openSqliteStore } from '../../../src/jobs/sqlite-store.js';
import type { JobStore } from '../../../src/jobs/store.js';

describe('jobs/journal', () => {
  let dir: string;
  let store: JobStore;
  const at = new Date().toISOString();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-journal-'));
    store = await openSqliteStore(path.join(dir, 'jobs.sqlite'), { privateDir: true });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const running = () =>
    store.create({ verb: 'apply', target: 'a', args: {}, user: 't', status: 'running', worker: 'w:1' });

  it('writes a finished run to the store and removes the file; a cut last line is skipped', async () => {
    const j = await running();
    assert.deepEqual(await store.lockHosts(j.jid, ['a'], 60_000), { ok: true });
    const file = appendJournal(dir, j.jid, {
      kind: 'host',
      host: 'a',
      status: 'changed',
      result: { ok: 1 },
      at,
    });
    appendJournal(dir, j.jid, {
      kind: 'finish',
      status: 'succeeded',
      exitCode: 0,
      summary: { hosts: 1 },
      at,
    });
    appendFileSync(file, '{"kind":"host","ho');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(journalDir(dir)).mode & 0o777, 0o700);
    const r = await replayJournals(store, dir);
    assert.deepEqual(r, { written: [j.jid], kept: [] });
    const job = (await store.get(j.jid))!;
    assert.equal(job.status, 'succeeded');
    assert.equal(job.summary?.hosts, 1);
    assert.match(String(job.summary?.recordedLate), /local journal/);
    assert.deepEqual(job.hosts.a?.result, { ok: 1 });
    assert.ok(!existsSync(file));
    const other = await running();
    assert.deepEqual(await store.lockHosts(other.jid, ['a'], 60_000), { ok: true }, 'its lock went with it');
  });

  it('leaves the journal of a run that has not ended, and keeps one whose job this store does not know', async () => {
    const j = await running();
    appendJournal(dir, j.jid, { kind: 'host', host: 'a', status: 'changed', result: {}, at });
    appendJournal(dir, '20200101000000000000', { kind: 'finish', status: 'failed', exitCode: 1, at });
    const r = await replayJournals(store, dir);
    assert.deepEqual(r.written, []);
    assert.deepEqual(r.kept.map((k) => k.jid).sort(), ['20200101000000000000', j.jid]);
    assert.equal((await store.get(j.jid))!.status, 'running');
    assert.ok(existsSync(journalFile(dir, j.jid)));
    // Once the job no longer runs (reaped, say), its results go in.
    await store.markInterrupted(j.jid, 'w:1', 5, { error: 'gone' });
    assert.deepEqual((await replayJournals(store, dir)).written, [j.jid]);
    assert.equal((await store.get(j.jid))!.hosts.a?.status, 'changed');
  });
});
