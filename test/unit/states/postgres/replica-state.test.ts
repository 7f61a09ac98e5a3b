// postgres.replica through the engine on a local shell: check (plan, nothing touched) -> apply (standby built,
// script installed) -> check clean -> re-apply unchanged; refusals as errors. Real temp PostgreSQL clusters.
import { strict as assert } from 'node:assert';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forcedHosts } from '../../../../src/cli/verbs/apply.js';
import { compileHost } from '../../../../src/engine/compile.js';
import { applyPhase, checkPhase } from '../../../../src/engine/phases.js';
import type { StepOutput } from '../../../../src/shell/protocol.js';
import { parseFacts } from '../../../../src/facts/parse.js';
import { createRenderEnv } from '../../../../src/render/env.js';
import { registerStates } from '../../../../src/states/registry.js';
import {
  interpretReplicaApply,
  interpretReplicaCheck,
  postgresReplica,
} from '../../../../src/states/postgres/replica.js';
import { LocalConnection, testHost } from '../../../helpers/local-connection.js';
import { PG_BIN, type TempPostgres } from '../../../helpers/temp-postgres.js';
import {
  neverStartedCluster,
  pgCtl,
  pgOwner,
  query,
  repoRoot,
  startReplicationPrimary,
  stopIfRunning,
} from './replica-helpers.js';

const out = (over: Partial<StepOutput>): StepOutput => ({ index: 0, status: 0, kv: {}, text: '', ...over });
const baseArgs = postgresReplica.args.parse({
  primary: 'db1',
  replication_user: 'r',
  slot: 's',
  version: 15,
  pgpass: '/p',
});

describe('postgres.replica: interpreting the script', () => {
  it('maps --check exit codes: 0 clean, 10 change with the plan, 3 error with the refusal, else unknown', () => {
    const clean = interpretReplicaCheck(
      baseArgs,
      out({ kv: { rc: '0' }, text: 'step preflight: x\nno change: healthy standby of db1:5432' }),
    );
    assert.deepEqual(clean, { status: 'clean', comment: 'no change: healthy standby of db1:5432' });
    const change = interpretReplicaCheck(
      baseArgs,
      out({ kv: { rc: '10' }, text: 'step preflight: x\nplan: a\nplan: b' }),
    );
    assert.equal(change.status, 'change');
    assert.equal(change.diff, 'a\nb');
    const refused = interpretReplicaCheck(
      baseArgs,
      out({ kv: { rc: '3' }, text: 'step preflight: x\nrefused: a PRIMARY is running' }),
    );
    assert.deepEqual(refused, { status: 'error', comment: 'refused: a PRIMARY is running' });
    // A refusal for the node's place in the topology says which; drift counts it as drift.
    const diverged = interpretReplicaCheck(
      baseArgs,
      out({ kv: { rc: '3' }, text: 'step preflight: x\ndiverged: role\nrefused: a PRIMARY is running' }),
    );
    assert.deepEqual(diverged, {
      status: 'error',
      comment: 'refused: a PRIMARY is running',
      diverged: 'role',
    });
    assert.equal(
      interpretReplicaCheck(baseArgs, out({ kv: { rc: '127' }, text: 'sh: not found' })).status,
      'unknown',
    );
    assert.equal(interpretReplicaCheck(baseArgs, out({ status: null })).status, 'unknown');
  });

  it('a healthy standby still changes when the installed copy of the script differs', () => {
    const a = { ...baseArgs, script_path: '/usr/local/sbin/pg_make_replica' };
    const r = interpretReplicaCheck(
      a,
      out({ kv: { rc: '0', installed: 'differs' }, text: 'no change: healthy' }),
    );
    assert.equal(r.status, 'change');
    assert.match(r.comment, /would be updated/);
  });

  it('apply: changed on a `changed:` line, failure comment from the last lines', () => {
    assert.deepEqual(
      interpretReplicaApply(out({ status: 100, text: 'step x\nchanged: replica built from db1:5432' })),
      {
        result: true,
        changed: true,
        comment: 'changed: replica built from db1:5432',
      },
    );
    assert.equal(interpretReplicaApply(out({ status: 0, text: 'no change: healthy' })).changed, false);
    const failed = interpretReplicaApply(
      out({ status: 1, kv: { rc: '1' }, text: 'step rollback: ...\nfailed: pg_basebackup' }),
    );
    assert.equal(failed.result, false);
    assert.match(failed.comment, /exit status 1.*failed: pg_basebackup/s);
    // Progress lines of the base backup (live output) do not crowd the reason out of the comment.
    const meter = Array.from({ length: 20 }, (_, i) => `${i * 100}/2000 kB (${i * 5}%), 0/1 tablespace`);
    const late = interpretReplicaApply(
      out({
        status: 1,
        kv: { rc: '1' },
        text: [
          'step basebackup: pg_basebackup from db1',
          ...meter,
          'pg_basebackup: error: connection lost',
        ].join('\r'),
      }),
    );
    assert.match(
      late.comment,
      /step basebackup: pg_basebackup from db1\npg_basebackup: error: connection lost$/,
    );
    assert.doesNotMatch(late.comment, /kB \(/);
  });

  it('rejects slot names PostgreSQL would refuse', () => {
    assert.equal(postgresReplica.args.safeParse({ ...baseArgs, slot: 'Bad-Slot' }).success, false);
    assert.equal(postgresReplica.args.safeParse({ ...baseArgs, slot: "a'b" }).success, false);
  });
});

describe('postgres.replica through the engine (real PostgreSQL)', function () {
  this.timeout(300_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root');
    return;
  }
  let primary: TempPostgres;
  let pgpass: string;
  let root: string;
  let dataDir: string;
  let port: number;
  const facts = parseFacts('');

  before(async () => {
    registerStates({ 'postgres.replica': postgresReplica });
    ({ primary, pgpass } = await startReplicationPrimary());
    root = mkdtempSync(path.join(tmpdir(), 'orch-replica-state-'));
    mkdirSync(path.join(root, 'states'));
    symlinkSync(path.join(repoRoot, 'templates'), path.join(root, 'templates'));
    const sock = path.join(primary.dir, 'standby-sock');
    mkdirSync(sock);
    chownSync(sock, pgOwner().uid, pgOwner().gid);
    dataDir = path.join(primary.dir, 'standby');
    port = await neverStartedCluster(dataDir, sock);
  });

  after(async () => {
    if (dataDir) stopIfRunning(dataDir);
    await primary?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function writeState(force?: string): void {
    // `force` here is the removed state argument: compiling must refuse it.
    const log = `${dataDir}.log`;
    const state = {
      standby: {
        'postgres.replica': [
          { primary: '127.0.0.1' },
          { primary_port: primary.port },
          { replication_user: 'replicator' },
          { slot: 'engine_standby' },
          { version: '15' },
          { pgpass },
          ...(force ? [{ force }] : []),
          { script_path: path.join(root, 'pg_make_replica') },
          { data_dir: dataDir },
          { bin_dir: PG_BIN },
          { pg_user: 'postgres' },
          {
            service: {
              start: pgCtl(dataDir, '-l', log, '-w', 'start'),
              stop: pgCtl(dataDir, '-m', 'fast', '-w', 'stop'),
              status: pgCtl(dataDir, 'status'),
            },
          },
        ],
      },
    };
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [replica]\n");
    writeFileSync(path.join(root, 'states', 'replica.yaml'), JSON.stringify(state, null, 1));
  }

  const compile = (forceRebuild?: boolean) =>
    compileHost({ root, env: createRenderEnv(root), host: testHost(), facts, pillar: {}, forceRebuild });
  const scriptOf = (c: ReturnType<typeof compile>) => (c.states[0]!.prepared as { script: string }).script;

  it('the old `force` state argument is a compile error naming the command-line option', () => {
    writeState(testHost().name);
    assert.throws(
      () => compile(),
      /force: the 'force' argument was removed .*orch apply <host> --force-rebuild <host>/,
    );
  });

  it('forcing is one-shot: only a compile for a run with --force-rebuild for this host renders FORCE=1', () => {
    writeState();
    assert.match(scriptOf(compile(true)), /\nFORCE=1\n/);
    assert.match(scriptOf(compile()), /\nFORCE=0\n/);
    assert.match(scriptOf(compile(false)), /\nFORCE=0\n/);
  });

  it('the copy installed for admins is never the forced one, so a forced run leaves the same install', () => {
    writeState();
    const prepared = (f?: boolean) =>
      compile(f).states[0]!.prepared as { script: string; installed: string; sha256: string };
    const [forced, plain] = [prepared(true), prepared()];
    assert.match(forced.installed, /\nFORCE=0\n/);
    assert.equal(forced.installed, plain.installed);
    assert.equal(forced.sha256, plain.sha256);
    assert.equal(plain.script, plain.installed);
  });

  it('--force-rebuild names targeted hosts only; alone it needs exactly one target', () => {
    assert.deepEqual(forcedHosts('db2', ['db1', 'db2']), ['db2']);
    assert.deepEqual(forcedHosts('db1, db2', ['db1', 'db2']), ['db1', 'db2']);
    assert.deepEqual(forcedHosts(true, ['db2']), ['db2']);
    assert.equal(forcedHosts(undefined, ['db2']), undefined);
    assert.throws(() => forcedHosts('db3', ['db1', 'db2']), /not targeted: db3/);
    assert.throws(() => forcedHosts(true, ['db1', 'db2']), /exactly one targeted host, not 2/);
    assert.throws(() => forcedHosts(',', ['db1']), /not targeted: \(none given\)/);
  });

  it('check plans, apply builds and installs, check is then clean and re-apply changes nothing', async () => {
    writeState();
    const conn = new LocalConnection(testHost());
    const compiled = compile();
    const checks = await checkPhase(conn, compiled);
    assert.equal(checks[0]!.status, 'change', checks[0]!.comment);
    assert.match(checks[0]!.diff!, /pristine stopped cluster/);
    assert.match(checks[0]!.diff!, /pg_make_replica would be installed/);
    assert.equal(existsSync(path.join(root, 'pg_make_replica')), false, 'check installs nothing');
    assert.deepEqual(await query(primary.url(), 'SELECT slot_name FROM pg_replication_slots'), []);

    const results = await applyPhase(conn, compiled, checks);
    assert.equal(results[0]!.status, 'changed', results[0]!.comment);
    assert.match(results[0]!.comment, /^changed: replica built from 127\.0\.0\.1:\d+$/);
    const installed = path.join(root, 'pg_make_replica');
    assert.equal(statSync(installed).mode & 0o777, 0o750);
    assert.equal(
      readFileSync(installed, 'utf8'),
      (compiled.states[0]!.prepared as { script: string }).script,
    );
    const rows = await query(
      `postgres://postgres@127.0.0.1:${port}/postgres`,
      'SELECT pg_is_in_recovery() AS r',
    );
    assert.deepEqual(rows, [{ r: true }]);

    const again = await checkPhase(conn, compile());
    assert.equal(again[0]!.status, 'clean', again[0]!.comment);
    assert.match(again[0]!.comment, /no change: healthy standby/);
    const reapply = await applyPhase(conn, compile(), [{ status: 'unknown', comment: 'forced re-run' }]);
    assert.equal(reapply[0]!.status, 'clean', reapply[0]!.comment);
    assert.equal(reapply[0]!.changed, false);
  });

  it('a refusal is a check error and the apply does not run', async () => {
    // Point the state at the primary's own data directory: a running primary here must be refused.
    const saved = dataDir;
    dataDir = primary.dataDir;
    try {
      writeState();
      const conn = new LocalConnection(testHost());
      const compiled = compile();
      const checks = await checkPhase(conn, compiled);
      assert.equal(checks[0]!.status, 'error');
      assert.match(checks[0]!.comment, /^refused: a PRIMARY is running/);
      const results = await applyPhase(conn, compiled, checks);
      assert.equal(results[0]!.status, 'failed');
      assert.deepEqual(await query(primary.url(), 'SELECT pg_is_in_recovery() AS r'), [{ r: false }]);
    } finally {
      dataDir = saved;
    }
  });
});
