// PostgreSQL drift: the pure findings for each rule, and the real probe against a throwaway PostgreSQL server (an
// inactive slot, a setting pending restart, a server in the wrong role), run through the local /bin/sh.
import assert from 'node:assert/strict';
import pg from 'pg';
import { pgFindings, pgLimits, statusFindings, postgresPillar } from '../../../src/drift/pg-findings.js';
import { parsePgStatus, probePg, type PgDriftStatus } from '../../../src/drift/pg-probe.js';
import { LocalConnection, testHost } from '../../helpers/local-connection.js';
import { startTempPostgres, type TempPostgres } from '../../helpers/temp-postgres.js';

const standby = (over: Partial<PgDriftStatus> = {}): PgDriftStatus => ({
  version: 150000,
  inRecovery: true,
  receiver: { status: 'streaming', senderHost: '10.0.0.1' },
  lagSeconds: 0,
  lagBytes: 0,
  slots: [],
  replicas: [],
  pendingRestart: [],
  ...over,
});

describe('drift: PostgreSQL findings', () => {
  const limits = { maxLagSeconds: 300, maxLagBytes: 1024 * 1024 };

  it('a healthy streaming standby has no findings', () => {
    assert.deepEqual(statusFindings(standby(), { ...limits, expectedRole: 'standby' }), []);
  });

  it('flags a standby not streaming, lag over the limits, and the wrong role', () => {
    const f = statusFindings(
      standby({ receiver: { status: 'waiting' }, lagSeconds: 301.4, lagBytes: 5 * 1024 * 1024 }),
      {
        ...limits,
        expectedRole: 'primary',
      },
    );
    assert.deepEqual(
      f.map((x) => [x.check, x.message]),
      [
        ['role', 'server is a standby; the pillar expects a primary'],
        ['streaming', 'standby is not streaming (WAL receiver waiting)'],
        ['lag', 'replay lag 301 s is above 300 s'],
        ['lag', 'replay lag 5.0 MiB is above 1.0 MiB'],
      ],
    );
    assert.ok(f.every((x) => x.severity === 'drift'));
    assert.equal(
      statusFindings(standby({ receiver: null }), limits)[0]!.message,
      'standby is not streaming (no WAL receiver)',
    );
  });

  it('flags inactive slots, unreserved/lost WAL, lagging standbys and pending restarts on a primary', () => {
    const f = statusFindings(
      {
        ...standby({ inRecovery: false, receiver: null, lagSeconds: null, lagBytes: null }),
        slots: [
          { name: 'ok_slot', type: 'physical', active: true, walStatus: 'reserved' },
          { name: 'idle', type: 'physical', active: false, walStatus: 'extended' },
          { name: 'gone', type: 'physical', active: true, walStatus: 'lost' },
        ],
        replicas: [
          { name: 'r1', client: '10.0.0.2', state: 'streaming', lagBytes: 10, replayLagSeconds: 1 },
          { name: 'r2', client: '10.0.0.3', state: 'streaming', lagBytes: 10, replayLagSeconds: 900 },
        ],
        pendingRestart: ['wal_level'],
      },
      limits,
    );
    assert.deepEqual(
      f.map((x) => `${x.check}:${x.subject ?? ''}`),
      ['slot:idle', 'slot:gone', 'replica_lag:r2', 'pending_restart:wal_level'],
    );
    assert.match(f[1]!.message, /wal_status 'lost'/);
  });

  it('on the primary: slots no replica owns, with the WAL they keep; unbounded retention is a warning', () => {
    const primary = (over: Partial<PgDriftStatus>) =>
      standby({ inRecovery: false, receiver: null, lagSeconds: null, lagBytes: null, ...over });
    const slots = [
      { name: 'db2_slot', type: 'physical', active: true, walStatus: 'reserved', retainedBytes: 100 },
      { name: 'old_db3', type: 'physical', active: false, walStatus: 'extended', retainedBytes: 5 * 1048576 },
      { name: 'fresh', type: 'physical', active: false, walStatus: null, retainedBytes: null },
      { name: 'cdc', type: 'logical', active: false, walStatus: 'reserved', retainedBytes: 10 },
    ];
    const owned = { ...limits, expectedRole: 'primary' as const, ownedSlots: ['db2_slot'] };
    const f = statusFindings(primary({ slots, maxSlotWalKeepMb: 1024 }), owned);
    const orphans = f.filter((x) => /belongs to no replica/.test(x.message));
    assert.deepEqual(
      orphans.map((x) => x.subject),
      ['old_db3', 'fresh'],
      'logical slots are not replicas’',
    );
    assert.match(
      orphans[0]!.message,
      /keeps 5\.0 MiB of WAL; drop it with postgres\.drop_orphan_slots: true/,
    );
    assert.match(orphans[1]!.message, /no WAL reserved yet/);
    assert.equal(f.filter((x) => x.severity === 'warning').length, 0, 'bounded on 13+');
    const pg12 = statusFindings(primary({ version: 120010, slots: slots.slice(0, 1) }), owned);
    assert.deepEqual(
      pg12.map((x) => [x.severity, x.message.slice(0, 40)]),
      [['warning', 'PostgreSQL 12 cannot bound the WAL its 1']],
    );
    const unbounded = statusFindings(primary({ slots: slots.slice(0, 1), maxSlotWalKeepMb: -1 }), owned);
    assert.match(unbounded[0]!.message, /max_slot_wal_keep_size is -1/);
    // Standbys have no orphan check, and a pillar without slots names no owner.
    assert.equal(
      statusFindings(standby({ slots }), owned).filter((x) => x.check === 'slot' && /belongs/.test(x.message))
        .length,
      0,
    );
    const p = postgresPillar({ postgres: { primary: 'db1', slots: { db2: 'db2_slot' } } })!;
    assert.deepEqual(pgLimits(p, 'db1').ownedSlots, ['db2_slot']);
    assert.equal(pgLimits(p, 'db2').ownedSlots, undefined);
  });

  it('probe outcomes: not installed / not running are drift, a failed query is an error', () => {
    assert.equal(pgFindings({ kind: 'missing' }, limits)[0]!.severity, 'drift');
    assert.match(pgFindings({ kind: 'down', detail: 'no server socket' }, limits)[0]!.message, /not running/);
    assert.equal(pgFindings({ kind: 'error', detail: 'permission denied' }, limits)[0]!.severity, 'error');
    assert.equal(pgFindings({ kind: 'up', result: 'garbage' }, limits)[0]!.check, 'query');
  });

  it('limits and expected role come from the postgres pillar', () => {
    assert.equal(postgresPillar({}), undefined);
    const p = postgresPillar({
      postgres: { primary: 'db1', drift: { max_lag_seconds: 60, max_lag_bytes: 100 } },
    })!;
    assert.deepEqual(pgLimits(p, 'db1'), { maxLagSeconds: 60, maxLagBytes: 100, expectedRole: 'primary' });
    assert.deepEqual(pgLimits(p, 'db2').expectedRole, 'standby');
    assert.deepEqual(pgLimits({}, 'db2'), { maxLagSeconds: 300 });
  });
});

describe('drift: PostgreSQL probe on a real server', function () {
  let server: TempPostgres;

  before(async function () {
    try {
      server = await startTempPostgres();
    } catch (err) {
      // No server binaries on this machine: the pure tests above still run.
      console.warn(`skipping: ${(err as Error).message}`);
      this.skip();
    }
  });
  after(async () => server?.stop());

  const target = () => ({
    port: server.port,
    socketDir: server.socketDir,
    osUser: process.getuid?.() === 0 ? 'postgres' : (process.env.USER ?? 'postgres'),
    db: 'postgres',
  });

  it('reads role, slots and pending restarts in one exec, and reports exactly the drift', async () => {
    const client = new pg.Client({ connectionString: server.url() });
    await client.connect();
    try {
      await client.query(`SELECT pg_create_physical_replication_slot('drift_idle', true)`);
      await client.query(`ALTER SYSTEM SET max_connections = 123`);
      await client.query(`SELECT pg_reload_conf()`);
      await new Promise((r) => setTimeout(r, 300)); // the reload is asynchronous
    } finally {
      await client.end();
    }
    const conn = new LocalConnection(testHost());
    const probe = await probePg(conn, target());
    assert.equal(conn.stats().execs, 1);
    assert.equal(probe.kind, 'up', JSON.stringify(probe));
    const status = parsePgStatus((probe as { result: string }).result);
    assert.equal(status.inRecovery, false);
    assert.ok(status.version >= 100000);
    assert.deepEqual(status.slots, [
      {
        name: 'drift_idle',
        type: 'physical',
        active: false,
        walStatus: status.slots[0]!.walStatus,
        retainedBytes: status.slots[0]!.retainedBytes,
      },
    ]);
    // Made with reserved WAL: it keeps some from the start.
    assert.ok(status.slots[0]!.retainedBytes! >= 0, String(status.slots[0]!.retainedBytes));
    assert.equal(status.maxSlotWalKeepMb, status.version >= 130000 ? -1 : null);
    assert.deepEqual(status.pendingRestart, ['max_connections']);
    const findings = pgFindings(probe, { maxLagSeconds: 300, expectedRole: 'standby' });
    assert.deepEqual(
      findings.map((f) => `${f.check}:${f.subject ?? ''}`),
      ['role:', 'slot:drift_idle', 'slot:', 'pending_restart:max_connections'],
    );
    assert.equal(findings[2]!.severity, 'warning');
  });

  it('a stopped server is reported as not running', async () => {
    const conn = new LocalConnection(testHost());
    const probe = await probePg(conn, { ...target(), port: server.port + 1 });
    assert.equal(probe.kind, 'down');
  });
});
