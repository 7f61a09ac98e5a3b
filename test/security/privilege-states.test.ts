// File states and PostgreSQL config files written into directories the postgres account owns, for real on the
// local shell as root: the work there runs as postgres, the result is owned as asked, a file is never readable
// beyond its final mode (a reader running as `nobody` keeps trying the temp files), and a postgres process that
// keeps swapping orch's temp files for symlinks changes nothing outside the managed paths.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { buildBatch } from '../../src/shell/script.js';
import { replaceFileScript } from '../../src/states/postgres/conffile.js';
import { postgresConf } from '../../src/states/postgres/conf.js';
import { postgresHba } from '../../src/states/postgres/hba.js';
import { startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import { Project, state } from '../unit/states/helpers.js';
import { at, compileOne, runState } from '../unit/states/postgres/helpers.js';
import { isRoot, makeDecoys, openTempDir, pgAccount, pgDir, prowl, snapshot } from './privilege-helpers.js';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TEMP = /^\.orch\.|\.orch-new|\.orch-tmp$/;

describe('security: states act as the owner of the directory they write in', function () {
  this.timeout(300_000);
  if (!isRoot) {
    it.skip('needs root and the postgres account');
    return;
  }
  let project: Project;
  let dir: string;
  const pg = pgAccount();

  beforeEach(() => {
    project = new Project();
    chmodSync(project.root, 0o755);
    dir = pgDir(project.target, 'pg home');
  });
  afterEach(() => project.cleanup());

  async function applyOne(fn: string, args: Record<string, unknown>) {
    project.states(state('s', fn, args));
    const [r] = await project.apply();
    return r!;
  }

  it('file.managed: a new 0600 file owned by postgres, never readable by others while it is written', async () => {
    const f = path.join(dir, 'pgpass');
    const reader = prowl('reader', 'nobody', [dir], TEMP);
    await settle(400);
    const writes = 40;
    for (let i = 0; i < writes; i++) {
      rmSync(f, { force: true });
      const r = await applyOne('file.managed', {
        name: f,
        contents: `*:*:*:replicator:pw-${i}\n`,
        user: 'postgres',
        group: 'postgres',
        mode: '0600',
      });
      assert.equal(r.status, 'changed', r.comment);
    }
    const seen = await reader.stop();
    console.log(
      `      reader as nobody: ${seen.attempts} read attempts on temp files over ${writes} first writes, ${seen.hits} succeeded`,
    );
    assert.equal(seen.hits, 0);
    const st = statSync(f);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [pg.uid, pg.gid, 0o600]);
    assert.equal(readFileSync(f, 'utf8'), `*:*:*:replicator:pw-${writes - 1}\n`);
    assert.deepEqual(readdirSync(dir), ['pgpass'], 'no temp file left');
  });

  it('file.managed: an owner postgres cannot give is refused with the reason', async () => {
    const r = await applyOne('file.managed', { name: path.join(dir, 'x'), contents: 'x\n', user: 'root' });
    assert.equal(r.status, 'failed');
    assert.match(r.comment, /refusing to give .*\/x to user root: postgres can write in .*pg home/);
    assert.equal(existsSync(path.join(dir, 'x')), false);
  });

  it('file.directory, file.line and file.absent work there as postgres', async () => {
    const sub = path.join(dir, 'conf.d');
    let r = await applyOne('file.directory', { name: sub, mode: '0750' });
    assert.equal(r.status, 'changed', r.comment);
    let st = statSync(sub);
    assert.deepEqual([st.uid, st.mode & 0o7777], [pg.uid, 0o750]);
    const f = path.join(sub, 'a.conf');
    writeFileSync(f, 'one\ntwo\n', { mode: 0o640 });
    spawnSync('chown', ['postgres:postgres', f]);
    r = await applyOne('file.line', { name: f, line: 'three', after: '^one$' });
    assert.equal(r.status, 'changed', r.comment);
    assert.equal(readFileSync(f, 'utf8'), 'one\nthree\ntwo\n');
    st = statSync(f);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [pg.uid, pg.gid, 0o640]);
    r = await applyOne('file.absent', { name: sub });
    assert.equal(r.status, 'changed', r.comment);
    assert.equal(existsSync(sub), false);
    r = await applyOne('file.directory', { name: path.join(dir, 'mine'), user: 'root' });
    assert.equal(r.status, 'failed');
    assert.match(r.comment, /refusing to give/);
  });

  it('a PostgreSQL config file replaced without a server: postgres-owned, final mode at once, no temp left', () => {
    const f = path.join(dir, 'pg_hba.conf');
    const target = {
      osUser: 'postgres',
      socketDir: path.join(dir, 'no-socket'),
      port: 1,
      db: 'postgres',
    } as never;
    const body = `orch_pg_psql=\n${replaceFileScript({ file: f, content: 'local all all peer\n', own: {}, newOwner: 'postgres', newMode: '0640', target })}`;
    const r = spawnSync('/bin/sh', ['-s'], {
      input: buildBatch('n0nce', [{ index: 0, body }]),
      encoding: 'utf8',
    });
    assert.match(r.stdout, /@@ORCH:n0nce:end:0:100/, r.stdout);
    const st = statSync(f);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [pg.uid, pg.gid, 0o640]);
    assert.equal(readFileSync(f, 'utf8'), 'local all all peer\n');
    assert.deepEqual(readdirSync(dir).sort(), ['pg_hba.conf']);
  });

  it('a postgres process swapping temp files for symlinks during file.managed changes nothing outside', async () => {
    const decoys = makeDecoys(project.root);
    const before = snapshot(decoys);
    const attacker = prowl('attacker', 'postgres', [dir], TEMP, decoys);
    await settle(400);
    let failed = 0;
    const runs = 40;
    for (let i = 0; i < runs; i++) {
      rmSync(path.join(dir, 'pgpass'), { force: true });
      const r = await applyOne('file.managed', {
        name: path.join(dir, 'pgpass'),
        contents: `pw-${i}\n`,
        user: 'postgres',
        mode: '0600',
      });
      if (r.status === 'failed') failed++;
    }
    const a = await attacker.stop();
    console.log(
      `      attacker as postgres: ${a.hits} swaps (${a.attempts} attempts) over ${runs} applies (${failed} applies failed)`,
    );
    assert.deepEqual(snapshot(decoys), before);
  });
});

describe('security: postgres.hba and postgres.conf under a symlink-swapping postgres process', function () {
  this.timeout(300_000);
  if (!isRoot) {
    it.skip('needs root and the postgres account');
    return;
  }
  let server: TempPostgres;
  let decoyRoot: string;
  before(async () => {
    server = await startTempPostgres();
    decoyRoot = openTempDir('orch-decoys-');
    mkdirSync(path.join(server.dataDir, 'conf.d'));
    spawnSync('chown', ['postgres:postgres', path.join(server.dataDir, 'conf.d')]);
  });
  after(async () => {
    await server?.stop();
    rmSync(decoyRoot, { recursive: true, force: true });
  });

  it('no file outside the managed paths changes owner, mode or content', async () => {
    const decoys = makeDecoys(decoyRoot);
    const before = snapshot(decoys);
    const dirs = [server.dataDir, path.join(server.dataDir, 'conf.d')];
    const attacker = prowl('attacker', 'postgres', dirs, TEMP, decoys);
    await settle(400);
    const runs = 15;
    const statuses: string[] = [];
    for (let i = 0; i < runs; i++) {
      const hba = compileOne('postgres.hba', postgresHba, {
        ...at(server),
        name: path.join(server.dataDir, 'pg_hba.conf'),
        entries: [
          { type: 'local', database: 'all', user: 'all', method: 'trust', comment: `run ${i}` },
          { type: 'host', database: 'all', user: 'all', address: '127.0.0.1/32', method: 'trust' },
        ],
      });
      const conf = compileOne('postgres.conf', postgresConf, {
        ...at(server),
        name: path.join(server.dataDir, 'conf.d', 'orch.conf'),
        settings: { work_mem: `${4 + i}MB` },
      });
      for (const c of [hba, conf]) statuses.push((await runState(c, true)).result?.status ?? 'none');
    }
    const a = await attacker.stop();
    console.log(
      `      attacker as postgres: ${a.hits} swaps (${a.attempts} attempts) over ${runs * 2} applies (${statuses.filter((s) => s === 'failed').length} failed)`,
    );
    assert.deepEqual(snapshot(decoys), before);
  });
});
