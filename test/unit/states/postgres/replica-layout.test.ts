// pg_make_replica and data directory layouts, on real PostgreSQL: a data directory that is a symbolic link is
// rebuilt where it points (the link stays); this host's TLS files, ALTER SYSTEM settings and conf.d survive the
// rebuild instead of the primary's; a pg_wal link is refused before anything is stopped.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { PG_BIN, type TempPostgres } from '../../../helpers/temp-postgres.js';
import {
  asPg,
  neverStartedCluster,
  pgCtl,
  query,
  renderReplicaScript,
  sampleInput,
  startReplicationPrimary,
  stopIfRunning,
} from './replica-helpers.js';

function sysid(dataDir: string): string {
  const r = spawnSync(path.join(PG_BIN, 'pg_controldata'), [dataDir], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  return /Database system identifier:\s+(\d+)/.exec(r.stdout)?.[1] ?? '';
}

describe('pg_make_replica and data directory layouts (real PostgreSQL)', function () {
  this.timeout(300_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root');
    return;
  }
  let primary: TempPostgres;
  let pgpass: string;
  const dirs: string[] = [];
  const stateDir = `/var/lib/orch/pg_make_replica-test-layout-${process.pid}`;

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    // The primary's own TLS files, settings and conf.d: none of them belongs on the replica.
    for (const [f, text] of [
      ['server.key', 'PRIMARY KEY'],
      ['server.crt', 'PRIMARY CERT'],
      ['root.crt', 'PRIMARY CA'],
    ])
      asPg(['sh', '-c', 'umask 077 && printf %s "$2" > "$1"', 'w', path.join(primary.dataDir, f!), text!]);
    asPg(['mkdir', path.join(primary.dataDir, 'conf.d')]);
    asPg(['sh', '-c', 'echo "# primary" > "$1"', 'w', path.join(primary.dataDir, 'conf.d', 'primary.conf')]);
    await query(primary.url(), "ALTER SYSTEM SET work_mem = '3MB'");
  });
  after(async () => {
    for (const d of dirs) stopIfRunning(d);
    await primary?.stop();
    spawnSync('rm', ['-rf', '--', stateDir]);
  });

  function script(dir: string, slot: string): string {
    return renderReplicaScript(
      sampleInput({
        primaryHost: '127.0.0.1',
        primaryPort: primary.port,
        slot,
        dataDir: dir,
        binDir: PG_BIN,
        pgpass,
        stateDir,
        serviceStart: pgCtl(dir, '-l', `${dir}.log`, '-w', '-t', '60', 'start'),
        serviceStop: pgCtl(dir, '-m', 'fast', '-w', '-t', '60', 'stop'),
        serviceStatus: pgCtl(dir, 'status'),
      }),
    );
  }

  function run(text: string, flags: string[] = []): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-s', '--', ...flags], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (status) => resolve({ status, out }));
      child.stdin.end(text);
    });
  }

  it('a symlinked data directory is rebuilt where it points; TLS files, ALTER SYSTEM and conf.d stay this host’s', async () => {
    const parent = path.join(primary.dir, 'linked');
    asPg(['mkdir', '-m', '0700', parent]);
    asPg(['mkdir', '-m', '0700', path.join(parent, 'bigdisk')]);
    const real = path.join(parent, 'bigdisk', 'data');
    dirs.push(real);
    const port = await neverStartedCluster(real, parent);
    const link = path.join(parent, 'data');
    symlinkSync(real, link);
    for (const [f, text] of [
      ['server.key', 'REPLICA KEY'],
      ['server.crt', 'REPLICA CERT'],
    ])
      asPg(['sh', '-c', 'umask 077 && printf %s "$2" > "$1"', 'w', path.join(real, f!), text!]);
    asPg(['mkdir', path.join(real, 'conf.d')]);
    asPg(['sh', '-c', 'echo "# replica" > "$1"', 'w', path.join(real, 'conf.d', 'local.conf')]);
    assert.equal(asPg(pgCtl(real, '-l', `${real}.log`, '-w', 'start').slice(4)).status, 0);
    const local = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await query(local, "ALTER SYSTEM SET work_mem = '7MB'");

    const r = await run(script(link, 'layout_link'));
    assert.equal(r.status, 0, r.out);
    assert.match(
      r.out,
      /step preflight: .*\/linked\/data is a symbolic link to .*\/linked\/bigdisk\/data: a rebuild works there/,
    );
    assert.match(r.out, /changed: replica built/);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
    assert.equal(readlinkSync(link), real);
    assert.equal(sysid(real), sysid(primary.dataDir), 'the new copy is where the link points');
    assert.deepEqual(
      readdirSync(parent).filter((f) => f.includes('.orch-')),
      [],
      'nothing was renamed beside the link',
    );
    assert.deepEqual(
      readdirSync(path.join(parent, 'bigdisk')).filter((f) => f.includes('.orch-')),
      [],
      'the old copy was removed beside the real directory',
    );
    assert.equal(readFileSync(path.join(real, 'server.key'), 'utf8'), 'REPLICA KEY');
    assert.equal(readFileSync(path.join(real, 'server.crt'), 'utf8'), 'REPLICA CERT');
    assert.equal(existsSync(path.join(real, 'root.crt')), false, "the primary's CA file is not kept");
    assert.match(r.out, /step configure: removed the primary's root\.crt \(this host had none\)/);
    assert.deepEqual(readdirSync(path.join(real, 'conf.d')), ['local.conf']);
    const auto = readFileSync(path.join(real, 'postgresql.auto.conf'), 'utf8');
    assert.match(auto, /work_mem = '7MB'/);
    assert.doesNotMatch(auto, /3MB/);
    assert.match(auto, /^primary_conninfo = /m);
    assert.deepEqual(await query(local, 'SHOW work_mem'), [{ work_mem: '7MB' }]);
    assert.deepEqual(await query(local, 'SELECT status FROM pg_stat_wal_receiver'), [
      { status: 'streaming' },
    ]);

    const check = await run(script(link, 'layout_link'), ['--check']);
    assert.equal(check.status, 0, check.out);
    assert.match(check.out, /no change: healthy standby/);
    stopIfRunning(real);
  });

  it('a pg_wal link is refused before anything is stopped; the cluster runs on untouched', async () => {
    const parent = path.join(primary.dir, 'walink');
    asPg(['mkdir', '-m', '0700', parent]);
    const dir = path.join(parent, 'data');
    dirs.push(dir);
    const port = await neverStartedCluster(dir, parent);
    const wal = path.join(parent, 'wal');
    assert.equal(asPg(['mv', path.join(dir, 'pg_wal'), wal]).status, 0);
    assert.equal(asPg(['ln', '-s', wal, path.join(dir, 'pg_wal')]).status, 0);
    assert.equal(asPg(pgCtl(dir, '-l', `${dir}.log`, '-w', 'start').slice(4)).status, 0);
    const id = sysid(dir);
    const r = await run(script(dir, 'layout_wal'));
    assert.equal(r.status, 3, r.out);
    assert.match(
      r.out,
      /refused: .*\/pg_wal is a symbolic link \(to .*\/walink\/wal\): .*not handled by pg_make_replica/,
    );
    assert.doesNotMatch(r.out, /step (slot|stop|move)/);
    assert.equal(sysid(dir), id);
    assert.deepEqual(
      await query(`postgres://postgres@127.0.0.1:${port}/postgres`, 'SELECT pg_is_in_recovery() AS r'),
      [{ r: false }],
    );
    assert.deepEqual(
      await query(primary.url(), "SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'layout_wal'"),
      [],
    );
    stopIfRunning(dir);
  });
});
