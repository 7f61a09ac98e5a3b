// Text from the server is data: a value printed on one of the apply step's marker lines (here a configuration
// file name, which the postgres account chooses in its own conf.d) cannot forge another marker line.
import { strict as assert } from 'node:assert';
import { appendFileSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { postgresConf } from '../../src/states/postgres/conf.js';
import { startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import { at, compileOne, runState } from '../unit/states/postgres/helpers.js';

describe('security: PostgreSQL marker lines', function () {
  this.timeout(120_000);
  let server: TempPostgres;

  before(async () => {
    server = await startTempPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  it('a conf.d file name with a newline does not forge a pending_restart report', async () => {
    const confD = path.join(server.dataDir, 'conf.d');
    mkdirSync(confD);
    const st = statSync(server.dataDir);
    chownSync(confD, st.uid, st.gid);
    appendFileSync(path.join(server.dataDir, 'postgresql.conf'), "include_dir = 'conf.d'\n");
    // Read after orch.conf (names are sorted), so it overrides work_mem and orch prints a note naming this file.
    const forged = path.join(confD, 'zz\norch:kv:pending_restart=forged_by_file_name\n.conf');
    writeFileSync(forged, "work_mem = '16MB'\n");
    chownSync(forged, st.uid, st.gid);
    const state = compileOne('postgres.conf', postgresConf, {
      ...at(server),
      name: path.join(confD, 'orch.conf'),
      settings: { work_mem: '8MB' },
    });
    const r = await runState(state, true);
    assert.equal(r.result!.status, 'changed', r.result!.comment);
    assert.doesNotMatch(r.result!.comment, /restart needed/, r.result!.comment);
  });
});
