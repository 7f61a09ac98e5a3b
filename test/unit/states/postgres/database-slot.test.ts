import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { postgresDatabase } from '../../../../src/states/postgres/database.js';
import { postgresSlot } from '../../../../src/states/postgres/slot.js';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState, testCtx } from './helpers.js';
import { printedText } from '../../../helpers/print-content.js';

describe('postgres.database and postgres.slot', () => {
  describe('argument rules', () => {
    it('refuses ensure absent on a database without force', () => {
      assert.throws(
        () => compileOne('postgres.database', postgresDatabase, { name: 'x', ensure: 'absent' }),
        /force: true/,
      );
      assert.throws(
        () =>
          compileOne('postgres.database', postgresDatabase, {
            name: 'postgres',
            ensure: 'absent',
            force: true,
          }),
        /it is the database orch connects to/,
      );
    });
    it('accepts only physical slots with PostgreSQL slot names', () => {
      assert.throws(() => compileOne('postgres.slot', postgresSlot, { name: 'Bad-Name' }), /slot names/);
      assert.throws(() => compileOne('postgres.slot', postgresSlot, { name: 'ok', type: 'logical' }));
    });
    it('quotes a hostile database name in the generated SQL', () => {
      const ctx = testCtx();
      const c = compileOne(
        'postgres.database',
        postgresDatabase,
        { name: `d"; DROP DATABASE postgres; --`, owner: "o'x" },
        ctx,
      );
      const s = c.states[0]!;
      const apply = printedText(
        s.impl.apply(s.args, s.prepared, { status: 'change', comment: '' }, ctx, { watchChanged: null }),
      );
      assert.ok(apply.includes(`CREATE DATABASE "d""; DROP DATABASE postgres; --" WITH OWNER "o'x";`));
      assert.ok(apply.includes(`WHERE datname = 'd"; DROP DATABASE postgres; --'`));
    });
  });

  describe('against a temp PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;
    let receiver: ChildProcess | undefined;

    before(async () => {
      server = await startTempPostgres();
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
    });
    after(async () => {
      if (receiver?.pid) process.kill(receiver.pid, 'SIGTERM');
      await admin?.end();
      await server?.stop();
    });

    const db = (a: Record<string, unknown>) =>
      compileOne('postgres.database', postgresDatabase, { ...at(server), ...a });
    const slot = (a: Record<string, unknown>) =>
      compileOne('postgres.slot', postgresSlot, { ...at(server), ...a });

    it('creates a database with owner and encoding, re-checks clean, fixes a drifted owner, drops with force', async () => {
      await admin.query('CREATE ROLE app_owner');
      await admin.query('CREATE ROLE other_owner');
      const want = { name: 'app db', owner: 'app_owner', encoding: 'UTF8', template: 'template0' };
      const r = await runState(db(want), true);
      assert.equal(r.check.status, 'change');
      assert.equal(r.result!.status, 'changed', r.result!.comment);
      const row = await admin.query(
        `SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = 'app db'`,
      );
      assert.equal(row.rows[0].o, 'app_owner');
      assert.equal((await runState(db(want), false)).check.status, 'clean');

      await admin.query(`ALTER DATABASE "app db" OWNER TO other_owner`);
      const drift = await runState(db(want), true);
      assert.match(drift.check.diff!, /other_owner -> app_owner/);
      assert.equal(drift.result!.status, 'changed');
      assert.equal((await runState(db(want), false)).check.status, 'clean');

      const enc = await runState(db({ ...want, encoding: 'LATIN1' }), false);
      assert.equal(enc.check.status, 'error');

      const drop = await runState(db({ name: 'app db', ensure: 'absent', force: true }), true);
      assert.equal(drop.result!.status, 'changed');
      assert.equal((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'app db'`)).rowCount, 0);
      assert.equal(
        (await runState(db({ name: 'app db', ensure: 'absent', force: true }), false)).check.status,
        'clean',
      );
    });

    it('creates a physical slot once and reuses it', async () => {
      const first = await runState(slot({ name: 'node_b_slot' }), true);
      assert.equal(first.check.status, 'change');
      assert.equal(first.result!.status, 'changed', first.result!.comment);
      const r = await admin.query(
        `SELECT slot_type, restart_lsn FROM pg_replication_slots WHERE slot_name = 'node_b_slot'`,
      );
      assert.equal(r.rows[0].slot_type, 'physical');
      assert.ok(r.rows[0].restart_lsn, 'WAL reserved immediately');
      const again = await runState(slot({ name: 'node_b_slot' }), true);
      assert.equal(again.check.status, 'clean');
      assert.match(again.check.comment, /inactive/);
      assert.equal(again.result!.status, 'clean');
    });

    it('refuses to drop an active slot, drops an inactive one', async () => {
      await runState(slot({ name: 'busy_slot' }), true);
      const walDir = path.join(server.dir, 'wal');
      mkdirSync(walDir);
      if (process.getuid?.() === 0) {
        const ids = readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('postgres:'))!
          .split(':');
        chownSync(walDir, Number(ids[2]), Number(ids[3]));
      }
      const argv = [
        path.join(PG_BIN, 'pg_receivewal'),
        '-D',
        walDir,
        '-S',
        'busy_slot',
        '-h',
        server.socketDir,
        '-p',
        String(server.port),
        '-U',
        'postgres',
        '-n',
      ];
      receiver =
        process.getuid?.() === 0
          ? spawn('runuser', ['-u', 'postgres', '--', ...argv], { stdio: 'ignore' })
          : spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      let active = false;
      for (let i = 0; i < 50 && !active; i++) {
        await new Promise((r) => setTimeout(r, 100));
        active = (await admin.query(`SELECT active FROM pg_replication_slots WHERE slot_name = 'busy_slot'`))
          .rows[0].active;
      }
      assert.ok(active, 'pg_receivewal made the slot active');
      const refused = await runState(slot({ name: 'busy_slot', ensure: 'absent' }), true);
      assert.equal(refused.check.status, 'error');
      assert.equal(refused.result!.status, 'failed');

      const drop = await runState(slot({ name: 'node_b_slot', ensure: 'absent' }), true);
      assert.equal(drop.result!.status, 'changed');
      assert.equal(
        (await admin.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'node_b_slot'`)).rowCount,
        0,
      );
    });

    it('apply itself refuses an active slot even when the check did not see it', async () => {
      const c = slot({ name: 'busy_slot', ensure: 'absent' });
      const { LocalConnection, testHost } = await import('../../../helpers/local-connection.js');
      const { applyPhase } = await import('../../../../src/engine/phases.js');
      const res = await applyPhase(new LocalConnection(testHost()), c, [
        { status: 'unknown', comment: 'pretend' },
      ]);
      assert.equal(res[0]!.status, 'failed');
      assert.match(res[0]!.comment, /refusing to drop an active replication slot/);
    });
  });
});
