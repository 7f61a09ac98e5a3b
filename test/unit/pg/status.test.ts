// orch pg status: parsing, warnings and exit codes (pure), and the script against a real primary and standby.
import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { OrchError } from '../../../src/errors.js';
import { conninfoHostPort, parseStatusOutput } from '../../../src/pg/status-parse.js';
import { FS } from '../../../src/pg/status-script.js';
import {
  analyzeStatus,
  collectPgStatus,
  formatStatus,
  statusJson,
  type HostStatus,
} from '../../../src/pg/status.js';
import type { HostOutcome } from '../../../src/transport/fleet.js';
import { LocalConnection, testHost } from '../../helpers/local-connection.js';
import { PG_BIN, type TempPostgres } from '../../helpers/temp-postgres.js';
import {
  neverStartedCluster,
  pgCtl,
  pgOwner,
  query,
  renderReplicaScript,
  sampleInput,
  startReplicationPrimary,
  stopIfRunning,
} from '../states/postgres/replica-helpers.js';

const line = (...f: string[]): string => f.join(FS);
const stats = { connections: 1, execs: 1 };
const ok = (name: string, value: HostStatus): HostOutcome<HostStatus> => ({
  host: testHost(name),
  ok: true,
  value,
  stats,
  ms: 1,
});

const primaryOut = [
  '@@begin',
  line('@@cluster', '/var/run/postgresql', '5432'),
  line('node', 'f', '150004', '1', '', ''),
  line('repl', 'db2_slot', '10.213.0.12', 'streaming', 'async', '0', '0.001', '0.002', '0.003'),
  line('slot', 'db2_slot', 'physical', 't', 'reserved', '56'),
  line('slot', 'old_slot', 'physical', 'f', 'extended', '33554432'),
  '@@end',
].join('\n');
const standbyOut = [
  '@@begin',
  line('@@cluster', '/var/run/postgresql', '5432'),
  line('node', 't', '150004', '1', '0', '0'),
  line(
    'receiver',
    'streaming',
    'db2_slot',
    "user=rep passfile='/var/lib/post gres/.pgpass' host=10.213.0.11 port=5432",
  ),
  '@@end',
].join('\n');

describe('pg status: parsing and analysis', () => {
  it('parses a primary with replication rows and slots', () => {
    const st = parseStatusOutput(primaryOut);
    assert.equal(st.complete, true);
    assert.equal(st.servers.length, 1);
    const s = st.servers[0]!;
    assert.equal(s.role, 'primary');
    assert.equal(s.timeline, 1);
    assert.deepEqual(s.replication[0], {
      application: 'db2_slot',
      clientAddr: '10.213.0.12',
      state: 'streaming',
      syncState: 'async',
      replayLagBytes: 0,
      writeLagS: 0.001,
      flushLagS: 0.002,
      replayLagS: 0.003,
    });
    assert.deepEqual(s.slots[1], {
      name: 'old_slot',
      type: 'physical',
      active: false,
      walStatus: 'extended',
      retainedBytes: 33554432,
    });
  });

  it('parses a standby and its upstream from the receiver conninfo', () => {
    const s = parseStatusOutput(standbyOut).servers[0]!;
    assert.equal(s.role, 'standby');
    assert.deepEqual(s.receiver, {
      status: 'streaming',
      slot: 'db2_slot',
      host: '10.213.0.11',
      port: '5432',
    });
    assert.equal(s.lagBytes, 0);
    assert.deepEqual(conninfoHostPort("host='a b\\'c' port=1"), { host: "a b'c", port: '1' });
  });

  it('warns about inactive slots and standbys not streaming (exit 1), unreachable hosts give exit 3', () => {
    const report = analyzeStatus([
      ok('db1', parseStatusOutput(primaryOut)),
      ok('db2', parseStatusOutput(standbyOut)),
    ]);
    assert.deepEqual(report.warnings, ['db1: slot old_slot is inactive (keeps 32.0 MB of WAL)']);
    assert.equal(report.exitCode, 1);
    const text = formatStatus(report);
    assert.match(text, /^HOST +PORT +ROLE +UPSTREAM +STATE/);
    assert.match(text, /\ndb2 +5432 +standby +10\.213\.0\.11:5432 +streaming +0 B +0s +1\n/);
    assert.match(text, /old_slot +physical +NO /);
    assert.match(text, /warning: db1: slot old_slot is inactive/);

    const broken = standbyOut.replace(line('receiver', 'streaming'), line('receiver', 'waiting'));
    const unreachable: HostOutcome<HostStatus> = {
      host: testHost('db3'),
      ok: false,
      error: new OrchError('HOST_UNREACHABLE', 'db3: connection refused'),
      stats,
      ms: 1,
    };
    const r2 = analyzeStatus([ok('db2', parseStatusOutput(broken)), unreachable]);
    assert.deepEqual(r2.warnings, ['db2: standby is not streaming (waiting)']);
    assert.equal(r2.exitCode, 3);
    assert.deepEqual((statusJson(r2) as { unreachable: string[] }).unreachable, [
      'db3: db3: connection refused',
    ]);
  });

  it('flags two servers out of recovery and a standby of another upstream than the recorded one', () => {
    const expected = new Map([
      ['db1', { role: 'standby' as const, upstreams: ['db3', '10.213.0.13'] }],
      ['db2', { role: 'standby' as const, upstreams: ['db3', '10.213.0.13'] }],
      ['db3', { role: 'primary' as const, upstreams: [] }],
    ]);
    const r = analyzeStatus(
      [
        ok('db1', parseStatusOutput(primaryOut)),
        ok('db2', parseStatusOutput(standbyOut)),
        ok('db3', parseStatusOutput(primaryOut)),
      ],
      expected,
    );
    assert.ok(
      r.warnings.includes('db1: out of recovery, but the recorded topology has it as a standby of db3'),
    );
    assert.ok(
      r.warnings.includes('db2: standby streams from 10.213.0.11, not from the recorded primary db3'),
      r.warnings.join('\n'),
    );
    assert.ok(r.warnings.some((w) => /^2 servers are out of recovery \(db1, db3\): split brain/.test(w)));
    assert.equal(r.exitCode, 1);
  });

  it('flags a standby on a newer timeline than the primary (diverged), not one on an older timeline', () => {
    const onTimeline = (out: string, tli: string) =>
      out
        .replace(line('node', 'f', '150004', '1'), line('node', 'f', '150004', tli))
        .replace(line('node', 't', '150004', '1'), line('node', 't', '150004', tli));
    const r = analyzeStatus([
      ok('db1', parseStatusOutput(onTimeline(primaryOut, '3'))),
      ok('db2', parseStatusOutput(onTimeline(standbyOut, '4'))),
      ok('db3', parseStatusOutput(onTimeline(standbyOut, '2'))),
    ]);
    assert.deepEqual(
      r.warnings.filter((w) => /timeline/.test(w)),
      [
        "db2: standby on timeline 4, newer than the primary db1's timeline 3: diverged (orch pg rejoin, or rebuild it)",
      ],
    );
    assert.equal(r.exitCode, 1);
  });

  it('a standby without a receiver, a host without PostgreSQL and psql errors are warnings', () => {
    const noRecv = [
      '@@begin',
      line('@@cluster', '/tmp', '5433'),
      line('node', 't', '150004', '2', '', ''),
      '@@end',
    ].join('\n');
    const none = '@@begin\n@@end\n';
    const err = [
      '@@begin',
      line('@@cluster', '/tmp', '5432'),
      line('@@error', 'psql: FATAL: role "postgres" does not exist'),
      '@@end',
    ].join('\n');
    const r = analyzeStatus([
      ok('a', parseStatusOutput(noRecv)),
      ok('b', parseStatusOutput(none)),
      ok('c', parseStatusOutput(err)),
    ]);
    assert.deepEqual(r.warnings, [
      'a: standby is not streaming (not connected)',
      'b: no running PostgreSQL found',
      'c: psql: FATAL: role "postgres" does not exist',
    ]);
    assert.equal(r.exitCode, 1);
  });
});

describe('pg status: the script on real PostgreSQL', function () {
  this.timeout(300_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root');
    return;
  }
  let primary: TempPostgres;
  let standbyDir: string;
  let standbySock: string;
  let standbyPort: number;

  before(async () => {
    let pgpass: string;
    ({ primary, pgpass } = await startReplicationPrimary());
    standbySock = path.join(primary.dir, 'standby-sock');
    mkdirSync(standbySock);
    chownSync(standbySock, pgOwner().uid, pgOwner().gid);
    standbyDir = path.join(primary.dir, 'standby');
    standbyPort = await neverStartedCluster(standbyDir, standbySock);
    const script = renderReplicaScript(
      sampleInput({
        primaryHost: '127.0.0.1',
        primaryPort: primary.port,
        slot: 'status_standby',
        dataDir: standbyDir,
        binDir: PG_BIN,
        pgpass,
        serviceStart: pgCtl(standbyDir, '-l', `${standbyDir}.log`, '-w', 'start'),
        serviceStop: pgCtl(standbyDir, '-m', 'fast', '-w', 'stop'),
        serviceStatus: pgCtl(standbyDir, 'status'),
      }),
    );
    const r = spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8', timeout: 200_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    await query(primary.url(), "SELECT pg_create_physical_replication_slot('forgotten_slot', true)");
  });

  after(async () => {
    if (standbyDir) stopIfRunning(standbyDir);
    await primary?.stop();
  });

  it('reports the primary with its streaming standby and the forgotten slot, the standby streaming', async () => {
    const p = await collectPgStatus(new LocalConnection(testHost('db1')), {
      socketDir: primary.socketDir,
      port: primary.port,
    });
    const s = await collectPgStatus(new LocalConnection(testHost('db2')), {
      socketDir: standbySock,
      port: standbyPort,
    });
    assert.equal(p.servers.length, 1, JSON.stringify(p));
    assert.equal(p.servers[0]!.role, 'primary');
    assert.equal(p.servers[0]!.replication[0]?.state, 'streaming');
    assert.equal(p.servers[0]!.replication[0]?.clientAddr, '127.0.0.1');
    const slots = Object.fromEntries(p.servers[0]!.slots.map((x) => [x.name, x]));
    assert.equal(slots.status_standby?.active, true);
    assert.equal(slots.status_standby?.walStatus, 'reserved');
    assert.equal(slots.forgotten_slot?.active, false);
    assert.equal(s.servers[0]!.role, 'standby');
    assert.deepEqual(s.servers[0]!.receiver, {
      status: 'streaming',
      slot: 'status_standby',
      host: '127.0.0.1',
      port: String(primary.port),
    });
    assert.equal(s.servers[0]!.timeline, 1);

    const report = analyzeStatus([ok('db1', p), ok('db2', s)]);
    assert.deepEqual(
      report.warnings.map((w) => w.replace(/ \(keeps .*\)/, '')),
      ['db1: slot forgotten_slot is inactive'],
    );
    assert.equal(report.exitCode, 1);
    assert.match(
      formatStatus(report),
      new RegExp(`db2 +${standbyPort} +standby +127\\.0\\.0\\.1:${primary.port} +streaming`),
    );
  });

  it("answers cleanly when started in a directory the PostgreSQL user cannot enter (sshd starts in root's home)", async () => {
    const closed = mkdtempSync(path.join(tmpdir(), 'orch-status-cwd-'));
    chmodSync(closed, 0o700);
    const cwd = process.cwd();
    process.chdir(closed);
    try {
      const p = await collectPgStatus(new LocalConnection(testHost('db1')), {
        socketDir: primary.socketDir,
        port: primary.port,
      });
      assert.equal(p.servers[0]?.role, 'primary', JSON.stringify(p));
      assert.equal(p.servers[0]!.replication[0]?.state, 'streaming');
      assert.deepEqual(p.servers[0]!.slots.map((x) => x.name).sort(), ['forgotten_slot', 'status_standby']);
      const report = analyzeStatus([ok('db1', p)]);
      assert.ok(
        !report.warnings.some((w) => /could not change directory|unexpected/.test(w)),
        report.warnings.join('\n'),
      );
    } finally {
      process.chdir(cwd);
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
