import { strict as assert } from 'node:assert';
import { appendFileSync, chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  confValue,
  editConf,
  parseConfLine,
  postgresConf,
  versionSettings,
} from '../../../../src/states/postgres/conf.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState } from './helpers.js';

describe('postgres.conf', () => {
  describe('values, editing and version rules', () => {
    it('quotes values for postgresql.conf', () => {
      assert.equal(confValue(true), 'on');
      assert.equal(confValue(10), '10');
      assert.equal(confValue('replica'), "'replica'");
      assert.equal(confValue("it's a\\b"), "'it''s a\\\\b'");
      assert.throws(() => confValue('a\nb'));
      assert.deepEqual(parseConfLine(`x = 'it''s a\\\\b'  # c`), { name: 'x', value: "it's a\\b" });
      assert.deepEqual(parseConfLine('Max_Connections 100 # c'), { name: 'max_connections', value: '100' });
      assert.equal(parseConfLine('#wal_level = replica'), null);
    });

    it('edits only the named settings, keeps order and comments, and is idempotent', () => {
      const old =
        '# top\nwal_level = minimal   # comment\n#max_wal_senders = 10\nwal_level = logical\nwal_keep_segments = 8\nport = 5432\n';
      const settings: [string, string | number | boolean][] = [
        ['wal_level', 'replica'],
        ['max_wal_senders', 5],
        ['hot_standby', true],
      ];
      const once = editConf(old, settings, ['wal_keep_segments']);
      assert.equal(
        once,
        "# top\nwal_level = 'replica'\n#max_wal_senders = 10\n# orch: superseded by an earlier line: wal_level = logical\n" +
          '# orch: removed, not valid for this PostgreSQL version: wal_keep_segments = 8\nport = 5432\n\n# Managed by orch (postgres.conf)\nmax_wal_senders = 5\nhot_standby = on\n',
      );
      assert.equal(editConf(once, settings, ['wal_keep_segments']), once);
      assert.equal(
        editConf('hot_standby = true\n', [['hot_standby', true]], []),
        'hot_standby = true\n',
        'equal values are left as written',
      );
    });

    it('translates wal_keep_segments on 13+, refuses what cannot work', () => {
      const r = versionSettings({ wal_keep_segments: 8, wal_level: 'replica' }, 15);
      assert.deepEqual(r.settings, [
        ['wal_keep_size', '128MB'],
        ['wal_level', 'replica'],
      ]);
      assert.match(r.notes[0]!, /translated to wal_keep_size = '128MB'/);
      assert.deepEqual(r.remove, ['wal_keep_segments']);
      assert.throws(
        () => versionSettings({ wal_keep_segments: 8, wal_keep_size: '1GB' }, 13),
        /remove wal_keep_segments/,
      );
      assert.throws(() => versionSettings({ wal_keep_segments: '1GB' }, 14), /cannot be translated/);
      assert.deepEqual(versionSettings({ wal_keep_size: '1GB' }, 12).settings, [['wal_keep_segments', 64]]);
      assert.deepEqual(versionSettings({ wal_keep_segments: 8 }, 12).settings, [['wal_keep_segments', 8]]);
      assert.throws(() =>
        compileOne('postgres.conf', postgresConf, {
          name: '/etc/x.conf',
          settings: { wal_keep_segments: 8, wal_keep_size: '1GB' },
          version: 15,
        }),
      );
    });
  });

  describe('against a temp PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;
    let mainConf: string;
    let confD: string;

    before(async () => {
      server = await startTempPostgres();
      mainConf = path.join(server.dataDir, 'postgresql.conf');
      confD = path.join(server.dataDir, 'conf.d');
      mkdirSync(confD);
      const st = statSync(server.dataDir);
      chownSync(confD, st.uid, st.gid);
      appendFileSync(mainConf, "include_dir = 'conf.d'\n");
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      await admin.query('SELECT pg_reload_conf()');
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
    });

    const setting = async (name: string) =>
      (await admin.query('SELECT current_setting($1) AS v', [name])).rows[0].v as string;
    const conf = (a: Record<string, unknown>) =>
      compileOne('postgres.conf', postgresConf, { ...at(server), ...a });

    it('writes an include file, reloads, reports pending_restart, and re-checks clean', async () => {
      const want = {
        name: path.join(confD, 'orch.conf'),
        settings: { work_mem: '8MB', wal_keep_segments: 8, wal_level: 'logical' },
      };
      const r = await runState(conf(want), true);
      assert.equal(r.check.status, 'change');
      assert.match(r.check.comment, /translated to wal_keep_size/);
      assert.equal(r.result!.status, 'changed', r.result!.comment);
      assert.match(r.result!.comment, /restart needed for: wal_level/);
      const text = readFileSync(want.name, 'utf8');
      assert.match(text, /^wal_keep_size = '128MB'$/m);
      assert.doesNotMatch(text, /wal_keep_segments/);
      assert.equal(await setting('work_mem'), '8MB');
      assert.equal(await setting('wal_keep_size'), '128MB');
      assert.equal((await runState(conf(want), false)).check.status, 'clean');
    });

    it('edits postgresql.conf in place and restores it when the server rejects the result', async () => {
      const before = readFileSync(mainConf, 'utf8');
      const ok = await runState(conf({ name: mainConf, settings: { maintenance_work_mem: '99MB' } }), true);
      assert.equal(ok.result!.status, 'changed', ok.result!.comment);
      assert.equal(await setting('maintenance_work_mem'), '99MB');
      const edited = readFileSync(mainConf, 'utf8');
      assert.ok(edited.startsWith(before.replace(/\n$/, '')), 'existing lines kept');
      assert.equal(
        (await runState(conf({ name: mainConf, settings: { maintenance_work_mem: '99MB' } }), false)).check
          .status,
        'clean',
      );

      const bad = await runState(conf({ name: mainConf, settings: { maintenance_work_mem: 'lots' } }), true);
      assert.equal(bad.result!.status, 'failed');
      assert.match(bad.result!.comment, /maintenance_work_mem/);
      assert.equal(readFileSync(mainConf, 'utf8'), edited, 'previous file restored');
      assert.equal(await setting('maintenance_work_mem'), '99MB');
    });

    it('refuses to edit a postgresql.conf changed between check and apply', async () => {
      const c = conf({ name: mainConf, settings: { maintenance_work_mem: '77MB' } });
      const { LocalConnection, testHost } = await import('../../../helpers/local-connection.js');
      const { applyPhase, checkPhase } = await import('../../../../src/engine/phases.js');
      const conn = new LocalConnection(testHost());
      const checks = await checkPhase(conn, c);
      appendFileSync(mainConf, '# edited by someone else\n');
      const res = await applyPhase(conn, c, checks);
      assert.equal(res[0]!.status, 'failed');
      assert.match(res[0]!.comment, /changed since the check/);
    });
  });
});
