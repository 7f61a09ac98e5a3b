// postgres.rewind_grants against a temp PostgreSQL 15: a missing role is a change, not an error; the grants are
// made once and a re-apply changes nothing; a revoked one is drift and is granted again; and the role can then
// call what pg_rewind calls.
import { strict as assert } from 'node:assert';
import pg from 'pg';
import { REWIND_FUNCTIONS } from '../../../../src/pg/lifecycle/rewind.js';
import { postgresRewindGrants } from '../../../../src/states/postgres/rewind-grants.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState } from './helpers.js';

describe('postgres.rewind_grants against a temp PostgreSQL 15', function () {
  this.timeout(120_000);
  let server: TempPostgres;
  let admin: pg.Client;
  const grants = () =>
    compileOne('postgres.rewind_grants', postgresRewindGrants, { ...at(server), role: 'rewinder' });
  const missing = async () =>
    (
      await admin.query<{ f: string }>(
        `SELECT f FROM unnest($1::text[]) AS f WHERE NOT has_function_privilege('rewinder', f, 'EXECUTE')`,
        [REWIND_FUNCTIONS],
      )
    ).rows.map((r) => r.f);

  before(async () => {
    server = await startTempPostgres();
    admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await server?.stop();
  });

  it('a role that does not exist yet is a change (its grants come after it), not a failed check', async () => {
    const r = await runState(grants(), false);
    assert.equal(r.check.status, 'change', r.check.comment);
    assert.match(r.check.comment, /role rewinder does not exist yet/);
  });

  it('grants the four functions once; a re-apply changes nothing; a revoked grant is drift and comes back', async () => {
    await admin.query('CREATE ROLE rewinder LOGIN');
    assert.equal((await missing()).length, 4);
    const first = await runState(grants(), true);
    assert.equal(first.check.status, 'change');
    assert.equal(first.check.diff!.split('\n').length, 4);
    assert.equal(first.result!.status, 'changed', first.result!.comment);
    assert.deepEqual(await missing(), []);
    const again = await runState(grants(), true);
    assert.equal(again.check.status, 'clean', again.check.comment);
    assert.equal(again.result!.status, 'clean', again.result!.comment);

    await admin.query('REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) FROM rewinder');
    const drift = await runState(grants(), true);
    assert.equal(drift.check.status, 'change');
    assert.equal(
      drift.check.diff,
      '+ GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO "rewinder"',
    );
    assert.equal(drift.result!.status, 'changed');
    assert.deepEqual(await missing(), []);

    // What pg_rewind runs as its source user works for the role now.
    const asRole = new pg.Client({ connectionString: server.url().replace('//postgres@', '//rewinder@') });
    await asRole.connect();
    try {
      const r = await asRole.query(
        "SELECT count(*) > 0 AS ok FROM pg_ls_dir('global', true, false), pg_stat_file('global/pg_control', true)",
      );
      assert.equal(r.rows[0].ok, true);
      await asRole.query("SELECT length(pg_read_binary_file('global/pg_control', 0, 8, true))");
    } finally {
      await asRole.end();
    }
  });
});
