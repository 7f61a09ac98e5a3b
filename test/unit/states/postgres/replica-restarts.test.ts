// postgres.restart_gate against a real temp primary and a real streaming standby (PostgreSQL 15): the primary's
// gate opens (reports a change, so its service restarts) only once the standby runs the settings that wait for a
// restart, and refuses (fails, pending_restart reported, nothing restarted) while it does not or is unreachable.
import { strict as assert } from 'node:assert';
import { appendFileSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { postgresRestartGate } from '../../../../src/states/postgres/replica-restarts.js';
import { PG_BIN, freePort, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { at, compileOne, runState, testCtx } from './helpers.js';
import {
  asPg,
  pgCtl,
  pgOwner,
  query,
  REPL_PASSWORD,
  startReplicationPrimary,
  stopIfRunning,
} from './replica-helpers.js';

describe('postgres.restart_gate: standbys restart before their primary', function () {
  this.timeout(180_000);
  let primary: TempPostgres;
  let pgpass: string;
  let dir: string;
  let standbyData: string;
  let standbyPort: number;

  const gate = (extra: Record<string, unknown> = {}, runHosts?: readonly string[]) =>
    compileOne(
      'postgres.restart_gate',
      postgresRestartGate,
      {
        name: 'restart_gate',
        standbys: { '127.0.0.1': 'standby_slot' },
        standby_port: standbyPort,
        replication_user: 'replicator',
        pgpass,
        wait_seconds: 4,
        ...at(primary),
        ...extra,
      },
      runHosts ? { ...testCtx(), runHosts: () => runHosts } : testCtx(),
    );
  const pgctl = (...rest: string[]) => {
    const r = asPg(pgCtl(standbyData, ...rest).slice(4));
    assert.equal(r.status, 0, r.out);
  };
  const startTime = async (url: string) =>
    String((await query(url, 'SELECT pg_postmaster_start_time()::text AS t'))[0]!.t);

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    await query(primary.url(), "SELECT pg_create_physical_replication_slot('standby_slot', true)");
    await query(primary.url(), "SELECT pg_create_physical_replication_slot('never_built', false)");
    standbyPort = await freePort();
    appendFileSync(
      pgpass,
      `127.0.0.1:${standbyPort}:*:replicator:${REPL_PASSWORD.replace(/[\\:]/g, '\\$&')}\n`,
    );
    const { uid, gid } = pgOwner();
    dir = mkdtempSync(path.join(tmpdir(), 'orch-gate-'));
    chownSync(dir, uid, gid);
    standbyData = path.join(dir, 'standby');
    const bb = asPg([
      path.join(PG_BIN, 'pg_basebackup'),
      '-D',
      standbyData,
      '-d',
      `host=127.0.0.1 port=${primary.port} user=replicator passfile='${pgpass}'`,
      '-X',
      'stream',
      '-R',
      '--slot=standby_slot',
      '--no-password',
    ]);
    assert.equal(bb.status, 0, bb.out);
    appendFileSync(
      path.join(standbyData, 'postgresql.conf'),
      `port = ${standbyPort}\nunix_socket_directories = '${dir}'\nhot_standby = on\n`,
    );
    pgctl('-l', path.join(dir, 'standby.log'), '-w', 'start');
  });
  after(async () => {
    if (standbyData) stopIfRunning(standbyData);
    if (dir) rmSync(dir, { recursive: true, force: true });
    await primary?.stop();
  });

  it('is clean with nothing pending, and changes nothing then', async () => {
    const r = await runState(gate(), true);
    assert.equal(r.check.status, 'clean', r.check.comment);
  });

  it('refuses while the standby runs the old value, opens once it restarted with the new one', async () => {
    // A restart-only setting, and one whose file value is in another unit than pg_settings' (8kB pages).
    await query(primary.url(), 'ALTER SYSTEM SET max_connections = 120');
    await query(primary.url(), "ALTER SYSTEM SET shared_buffers = '32MB'");
    await query(primary.url(), 'SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 500));
    const before = await runState(gate(), true);
    assert.equal(before.check.status, 'change');
    assert.match(
      before.check.comment,
      /restart due for: max_connections, shared_buffers; standbys first: 127\.0\.0\.1/,
    );
    assert.equal(before.result!.result, false, before.result!.comment);
    assert.match(before.result!.comment, /not restarting: standby\(s\) 127\.0\.0\.1 did not restart/);
    assert.match(before.result!.comment, /max_connections = 100/);
    // The standby reloads only: still pending there, so still refused.
    appendFileSync(
      path.join(standbyData, 'postgresql.conf'),
      'max_connections = 120\nshared_buffers = 4096\n',
    );
    pgctl('reload');
    await new Promise((r) => setTimeout(r, 500));
    const pending = await runState(gate(), true);
    assert.equal(pending.result!.result, false);
    assert.match(pending.result!.comment, /restart pending/);
    const primaryStart = await startTime(primary.url());
    // -l: a server without a log file would hold this test's stdout pipe open.
    pgctl('-l', path.join(dir, 'standby.log'), '-w', '-m', 'fast', 'restart');
    const after = await runState(gate(), true);
    assert.equal(after.result!.result, true, after.result!.comment);
    assert.equal(after.result!.changed, true, 'the gate opens: the service would restart the primary');
    assert.match(after.result!.comment, /restart due for: max_connections,shared_buffers/);
    // The gate never restarts anything itself.
    assert.equal(await startTime(primary.url()), primaryStart);
  });

  it('with the standby unreachable: refuses within wait_seconds, pending_restart reported', async () => {
    pgctl('-w', 'stop', '-m', 'fast');
    try {
      const t0 = Date.now();
      const r = await runState(gate({ wait_seconds: 3 }), true);
      assert.equal(r.result!.result, false);
      assert.match(r.result!.comment, /restart pending for: max_connections,shared_buffers/);
      assert.ok(Date.now() - t0 < 30_000);
    } finally {
      pgctl('-l', path.join(dir, 'standby.log'), '-w', 'start');
    }
  });

  it('does not wait for a replica whose slot never streamed (not built yet)', async () => {
    const r = await runState(gate({ standbys: { 'db9.example.com': 'never_built' } }), true);
    assert.equal(r.result!.result, true, r.result!.comment);
    assert.equal(r.result!.changed, true);
  });

  it('on a standby (nothing listed): a restart is due as soon as settings wait for it', async () => {
    const r = await runState(
      compileOne('postgres.restart_gate', postgresRestartGate, {
        name: 'restart_gate',
        socket_dir: dir,
        port: standbyPort,
        os_user: 'postgres',
      }),
      true,
    );
    assert.equal(r.check.status, 'clean', `nothing pending on the restarted standby: ${r.check.comment}`);
  });

  it('a standby not in this run is asked once, never waited for: it passes when it runs the settings', async () => {
    // wait_seconds as the pillar's default: waiting would outlast this suite's timeout.
    const r = await runState(gate({ wait_seconds: 600 }, ['primary.example.com']), true);
    assert.match(r.check.comment, /standbys first: 127\.0\.0\.1 \(not in this run: 127\.0\.0\.1\)/);
    assert.equal(r.result!.result, true, r.result!.comment);
    assert.equal(r.result!.changed, true, 'the standby already runs the pending settings: the gate opens');
  });

  it("a standby not in this run without the settings fails the gate at once; the run's standbys are not waited for", async () => {
    await query(primary.url(), 'ALTER SYSTEM SET max_connections = 130');
    await query(primary.url(), 'SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 500));
    const primaryStart = await startTime(primary.url());
    // 'localhost' is the same standby under another name, in the run; it has no .pgpass line, so it would never
    // answer 'ok': the gate must not wait wait_seconds for it once the standby outside the run failed it.
    const r = await runState(
      gate({ wait_seconds: 600, standbys: { '127.0.0.1': 'standby_slot', localhost: 'standby_slot' } }, [
        'primary.example.com',
        'localhost',
      ]),
      true,
    );
    assert.equal(r.result!.result, false, r.result!.comment);
    assert.equal(r.result!.changed, false);
    assert.match(r.result!.comment, /standby 127\.0\.0\.1 \(not in this run\): runs max_connections = 120/);
    assert.match(
      r.result!.comment,
      /not restarting: standby\(s\) 127\.0\.0\.1, not in this run, do not run the new settings: apply them first/,
    );
    assert.match(r.result!.comment, /restart pending for: max_connections/);
    assert.equal(await startTime(primary.url()), primaryStart);
  });
});
