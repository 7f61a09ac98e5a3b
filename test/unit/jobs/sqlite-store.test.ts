// The shared store suite against the embedded SQLite store, plus what only SQLite has (file, WAL, user_version).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { OrchError } from '../../../src/errors.js';
import { openJobStoreAt } from '../../../src/jobs/open.js';
import { SQLITE_SCHEMA_VERSION } from '../../../src/jobs/sqlite-schema.js';
import { openSqliteStore } from '../../../src/jobs/sqlite-store.js';
import { defineStoreSuite, type StoreHarness } from './store-suite.js';

describe('jobs/sqlite-store', () => {
  let dir: string;
  let n = 0;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-jobs-sqlite-'));
    writeFileSync(path.join(dir, 'not-a-dir'), 'x');
    writeFileSync(
      path.join(dir, 'garbage.sqlite'),
      'this is not an SQLite database, just text. '.repeat(200),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const harness: StoreHarness = {
    fresh: async () => `sqlite:${path.join(dir, `s${++n}`, 'jobs.sqlite')}`,
    open: async (spec, opts) =>
      opts?.jids ? openSqliteStore(spec.slice('sqlite:'.length), opts) : openJobStoreAt(spec, dir),
    badSpecs: () => [
      `sqlite:${path.join(dir, 'not-a-dir', 'jobs.sqlite')}`,
      `sqlite:${path.join(dir, 'garbage.sqlite')}`,
      'mysql://root:hunter2@localhost/x',
    ],
  };

  defineStoreSuite(() => harness);

  describe('sqlite specifics', () => {
    it('uses WAL mode and records the schema version', async () => {
      const file = path.join(dir, 'specific', 'jobs.sqlite');
      const store = await openSqliteStore(file);
      await store.close();
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
      } finally {
        db.close();
      }
      // Re-opening an up-to-date file migrates nothing and keeps data.
      const again = await openSqliteStore(file);
      const j = await again.create({ verb: 'run', target: 'h', args: {}, user: 'u', status: 'queued' });
      await again.close();
      const third = await openSqliteStore(file);
      assert.equal((await third.get(j.jid))?.verb, 'run');
      await third.close();
    });

    it('refuses a file written by a newer schema', async () => {
      const file = path.join(dir, 'newer.sqlite');
      const db = new Database(file);
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      db.close();
      await assert.rejects(
        openSqliteStore(file),
        (e: unknown) => e instanceof OrchError && e.code === 'JOB_STORE_ERROR' && /newer/.test(e.message),
      );
    });
  });
});
