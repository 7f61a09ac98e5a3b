// postgres.orphan_slots against a temp PostgreSQL: slots no replica owns are reported with the WAL they keep;
// with drop: true the apply drops them and leaves the owned ones; the check is then clean.
import { strict as assert } from 'node:assert';
import pg from 'pg';
import { postgresOrphanSlots } from '../../../../src/states/postgres/orphan-slots.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState } from './helpers.js';

describe('postgres.orphan_slots (temp PostgreSQL 15)', function () {
  this.timeout(120_000);
  let server: TempPostgres;
  let admin: pg.Client;
  before(async () => {
    server = await startTempPostgres();
    admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`SELECT pg_create_physical_replication_slot('owned_a', true)`);
    await admin.query(`SELECT pg_create_physical_replication_slot('orphan_b', true)`);
    await admin.query(`SELECT pg_create_physical_replication_slot('orphan_c', false)`);
  });
  after(async () => {
    await admin?.end();
    await server?.stop();
  });
  const state = (a: Record<string, unknown>) =>
    compileOne('postgres.orphan_slots', postgresOrphanSlots, { ...at(server), ...a });
  const slots = async () =>
    (await admin.query('SELECT slot_name FROM pg_replication_slots ORDER BY 1')).rows.map((r) => r.slot_name);

  it('refuses slot names PostgreSQL would refuse in keep', () => {
    assert.throws(() => state({ keep: ['Bad-Name'] }), /slot names/);
  });

  it('reports orphans with the WAL they keep, and changes nothing without drop', async () => {
    const r = await runState(state({ keep: ['owned_a'] }), true);
    assert.equal(r.check.status, 'clean', r.check.comment);
    assert.match(r.check.comment, /2 replication slot\(s\) without a replica in the pillar \(drop: false/);
    assert.match(r.check.comment, /slot orphan_b \(keeps \d+\.\d MiB of WAL\)/);
    assert.match(r.check.comment, /slot orphan_c \(no WAL reserved\)/);
    assert.deepEqual(await slots(), ['orphan_b', 'orphan_c', 'owned_a']);
  });

  it('with drop: true drops the orphans, keeps the owned slot, then is clean', async () => {
    const r = await runState(state({ keep: ['owned_a'], drop: true }), true);
    assert.equal(r.check.status, 'change', r.check.comment);
    assert.match(r.check.diff!, /^- slot orphan_b .*\n- slot orphan_c \(no WAL reserved\)$/);
    assert.equal(r.result!.result, true, r.result!.comment);
    assert.equal(r.result!.changed, true);
    assert.deepEqual(await slots(), ['owned_a']);
    const again = await runState(state({ keep: ['owned_a'], drop: true }), false);
    assert.equal(again.check.status, 'clean');
    // An empty keep list makes every physical slot an orphan.
    const all = await runState(state({ keep: [] }), false);
    assert.match(all.check.comment, /1 replication slot\(s\) without a replica/);
  });
});
