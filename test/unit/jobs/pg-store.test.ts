// The shared store suite against a real PostgreSQL 15 server started in a temp dir, plus what only the PostgreSQL
// store has (schema `orch`, schema_version, concurrent migration, unix-socket URLs).
import { strict as assert } from 'node:assert';
import pg from 'pg';
import { OrchError } from '../../../src/errors.js';
import { openJobStoreAt } from '../../../src/jobs/open.js';
import { PG_SCHEMA_VERSION } from '../../../src/jobs/pg-schema.js';
import { openPgStore } from '../../../src/jobs/pg-store.js';
import { freePort, startTempPostgres, type TempPostgres } from '../../helpers/temp-postgres.js';
import { defineStoreSuite, type StoreHarness } from './store-suite.js';

describe('jobs/pg-store', function () {
  this.timeout(120_000);
  let server: TempPostgres;
  let closedPort: number;
  let n = 0;

  before(async () => {
    server = await startTempPostgres();
    closedPort = await freePort();
  });
  after(async () => {
    await server?.stop();
  });

  const harness: StoreHarness = {
    fresh: () => server.createDatabase(`jobs_${++n}`),
    open: async (spec, opts) => (opts?.jids ? openPgStore(spec, opts) : openJobStoreAt(spec, '/nonexistent')),
    badSpecs: () => [
      `postgres://postgres:hunter2@127.0.0.1:${closedPort}/postgres`,
      server.url('no_such_database'),
      `postgres://nobody_here:hunter2@127.0.0.1:${server.port}/postgres`,
    ],
  };

  defineStoreSuite(() => harness);

  describe('postgres specifics', () => {
    it('keeps its tables in schema orch with a schema_version, migrating once under concurrent opens', async () => {
      const url = await server.createDatabase(`jobs_${++n}`);
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url)));
      const j = await stores[0]!.create({ verb: 'run', target: 'h', args: {}, user: 'u', status: 'queued' });
      assert.equal((await stores[3]!.get(j.jid))?.verb, 'run');
      for (const s of stores) await s.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const v = await client.query('SELECT version FROM orch.schema_version');
        assert.deepEqual(v.rows, [{ version: PG_SCHEMA_VERSION }]);
        const t = await client.query(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = 'orch' ORDER BY table_name`,
        );
        assert.deepEqual(
          t.rows.map((r: { table_name: string }) => r.table_name),
          ['host_locks', 'host_results', 'job_shards', 'jobs', 'schema_version', 'shard_hosts', 'topology'],
        );
        const pub = await client.query(
          `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
        );
        assert.equal(pub.rows[0].n, 0, 'nothing created outside schema orch');
      } finally {
        await client.end();
      }
    });

    it('refuses a schema written by a newer orch', async () => {
      const url = await server.createDatabase(`jobs_${++n}`);
      await (await openPgStore(url)).close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('UPDATE orch.schema_version SET version = $1', [PG_SCHEMA_VERSION + 1]);
      await client.end();
      await assert.rejects(
        openPgStore(url),
        (e: unknown) => e instanceof OrchError && e.code === 'JOB_STORE_ERROR' && /newer/.test(e.message),
      );
    });

    it('opens over the unix socket too', async () => {
      await server.createDatabase(`jobs_${++n}`);
      const store = await openJobStoreAt(server.socketUrl(`jobs_${n}`), '/nonexistent');
      const j = await store.create({ verb: 'run', target: 'h', args: {}, user: 'u', status: 'queued' });
      assert.equal((await store.claimNext('w', 1000))?.jid, j.jid);
      await store.close();
    });

    it('stores hostile text as data, never as SQL', async () => {
      const store = await openJobStoreAt(await server.createDatabase(`jobs_${++n}`), '/nonexistent');
      const evil = `x'); DROP TABLE orch.jobs; --`;
      const j = await store.create({
        verb: evil,
        target: evil,
        args: { [evil]: evil },
        user: evil,
        status: 'queued',
      });
      await store.putHostResult(j.jid, evil, evil, evil);
      const back = (await store.list({ host: evil, verb: evil, target: evil }))[0]!;
      assert.equal(back.jid, j.jid);
      assert.equal(back.hosts[evil]!.result, evil);
      assert.deepEqual(back.args, { [evil]: evil });
      await store.close();
    });
  });
});
