import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { hbaToken, postgresHba, renderHba } from '../../../../src/states/postgres/hba.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState } from './helpers.js';

const LOCAL_TRUST = { type: 'local', database: 'all', user: 'all', method: 'trust' };

describe('postgres.hba', () => {
  describe('rendering', () => {
    it('keeps the given order and quotes only what needs it', () => {
      const text = renderHba([
        {
          type: 'host',
          database: 'replication',
          user: 'replicator',
          address: '10.213.0.12/32',
          method: 'scram-sha-256',
          comment: 'standby b',
        },
        {
          type: 'local',
          database: 'all',
          user: ['postgres', 'odd user'],
          method: 'peer',
          options: { map: 'admins' },
        },
        { type: 'host', database: 'all', user: 'all', address: '0.0.0.0/0', method: 'reject' },
      ]);
      const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
      assert.match(lines[0]!, /^host\s+replication\s+replicator\s+10\.213\.0\.12\/32\s+scram-sha-256$/);
      assert.match(lines[1]!, /^local\s+all\s+postgres,"odd user"\s+peer map=admins$/);
      assert.match(lines[2]!, /reject$/);
      assert.match(text, /# standby b\nhost/);
      assert.throws(() => hbaToken('a"b'), /double quote/);
      assert.throws(() => hbaToken('a\nb'));
    });

    it('refuses host entries without an address and local entries with one', () => {
      assert.throws(() =>
        compileOne('postgres.hba', postgresHba, {
          name: '/x/pg_hba.conf',
          entries: [{ type: 'host', database: 'all', user: 'all', method: 'trust' }],
        }),
      );
      assert.throws(() =>
        compileOne('postgres.hba', postgresHba, {
          name: '/x/pg_hba.conf',
          entries: [{ ...LOCAL_TRUST, address: '127.0.0.1/32' }],
        }),
      );
    });
  });

  describe('against a temp PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let hbaFile: string;
    let admin: pg.Client;

    before(async () => {
      server = await startTempPostgres();
      hbaFile = path.join(server.dataDir, 'pg_hba.conf');
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
    });

    const hba = (entries: unknown[]) =>
      compileOne('postgres.hba', postgresHba, { ...at(server), name: hbaFile, entries });
    const good = [
      LOCAL_TRUST,
      { type: 'host', database: 'all', user: 'postgres', address: '127.0.0.1/32', method: 'trust' },
      {
        type: 'host',
        database: 'replication',
        user: 'replicator',
        address: '10.213.0.0/24',
        method: 'scram-sha-256',
      },
    ];

    it('writes, validates and reloads; a re-check is clean', async () => {
      const before = statSync(hbaFile);
      const r = await runState(hba(good), true);
      assert.equal(r.check.status, 'change');
      assert.match(r.check.diff!, /\+host\s+replication\s+replicator\s+10\.213\.0\.0\/24/);
      assert.equal(r.result!.status, 'changed', r.result!.comment);
      assert.match(r.result!.comment, /validated and reloaded/);
      assert.equal(readFileSync(hbaFile, 'utf8'), renderHba(good as never));
      const st = statSync(hbaFile);
      assert.equal(st.uid, before.uid, 'owner kept');
      assert.equal(st.mode & 0o777, before.mode & 0o777, 'mode kept');
      // The server loaded it: pg_hba_file_rules shows the replication line.
      const rules = await admin.query(
        `SELECT count(*)::int AS n FROM pg_hba_file_rules WHERE 'replicator' = ANY(user_name)`,
      );
      assert.equal(rules.rows[0].n, 1);
      assert.equal((await runState(hba(good), false)).check.status, 'clean');
      assert.equal(existsSync(`${hbaFile}.orch-new`), false);
    });

    it('keeps the old file when the server rejects the new one', async () => {
      const old = readFileSync(hbaFile, 'utf8');
      // A bad address or an unknown method is a compile error now; the server still judges what only it knows.
      assert.throws(() => hba([...good, { ...good[1], address: '300.1.2.3/40' }]), /address/);
      assert.throws(() => hba([...good, { ...good[1], method: 'bogus-method' }]), /method/);
      const bad = [
        ...good,
        { type: 'host', database: 'all', user: 'all', address: '10.0.0.0/8', method: 'cert' },
      ];
      const r = await runState(hba(bad), true);
      assert.equal(r.check.status, 'change');
      assert.equal(r.result!.status, 'failed');
      assert.match(r.result!.comment, /pg_hba.conf line \d+: .*cert/i);
      assert.match(r.result!.comment, /previous file is restored/);
      assert.equal(readFileSync(hbaFile, 'utf8'), old);
      // The server still accepts connections with the old rules.
      assert.equal((await admin.query('SELECT 1 AS one')).rows[0].one, 1);
      assert.equal((await runState(hba(good), false)).check.status, 'clean');
    });

    it("refuses to write a file that is not the server's hba_file while it runs", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'orch-hba-'));
      try {
        const other = path.join(dir, 'pg_hba.conf');
        writeFileSync(other, '# old\n');
        const r = await runState(
          compileOne('postgres.hba', postgresHba, { ...at(server), name: other, entries: good }),
          true,
        );
        assert.equal(r.result!.status, 'failed');
        assert.match(r.result!.comment, /not the server's hba_file/);
        assert.equal(readFileSync(other, 'utf8'), '# old\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('writes without validation, and says so, when the server is not running', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'orch-hba-'));
      try {
        const other = path.join(dir, 'pg_hba.conf');
        const c = compileOne('postgres.hba', postgresHba, {
          ...at(server),
          port: server.port + 1,
          name: other,
          entries: good,
          mode: '0640',
        });
        const r = await runState(c, true);
        assert.equal(r.result!.status, 'changed', r.result!.comment);
        assert.match(r.result!.comment, /not validated/);
        assert.equal(statSync(other).mode & 0o777, 0o640);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
