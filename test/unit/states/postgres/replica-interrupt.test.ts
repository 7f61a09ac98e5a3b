// Interrupting pg_make_replica on real PostgreSQL: SIGINT, SIGTERM or SIGHUP (a dropped session) while the base
// backup runs rolls back to the old data directory and starts it again; the next run converges and reports the
// failed copy as a leftover. A held lock keeps a second run off the data directory.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { interpretReplicaCheck, postgresReplica } from '../../../../src/states/postgres/replica.js';
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

describe('pg_make_replica interrupted (real PostgreSQL)', function () {
  this.timeout(300_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root');
    return;
  }
  let primary: TempPostgres;
  let pgpass: string;
  const dirs: string[] = [];

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    // Enough data that the copy takes a moment: the signal lands while pg_basebackup runs.
    await query(
      primary.url(),
      'CREATE TABLE bulk AS SELECT g, repeat(md5(g::text), 30) AS v FROM generate_series(1, 200000) g',
    );
  });
  after(async () => {
    for (const d of dirs) stopIfRunning(d);
    await primary?.stop();
  });

  function script(dataDir: string, slot: string): string {
    return renderReplicaScript(
      sampleInput({
        primaryHost: '127.0.0.1',
        primaryPort: primary.port,
        slot,
        dataDir,
        binDir: PG_BIN,
        pgpass,
        serviceStart: pgCtl(dataDir, '-l', `${dataDir}.log`, '-w', '-t', '60', 'start'),
        serviceStop: pgCtl(dataDir, '-m', 'fast', '-w', '-t', '60', 'stop'),
        serviceStatus: pgCtl(dataDir, 'status'),
      }),
    );
  }

  /** Run the script; send `signal` to its shell as soon as a line matches `when`. */
  function runSignalled(
    text: string,
    flags: string[],
    signal?: NodeJS.Signals,
    when?: RegExp,
  ): Promise<{ status: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-s', '--', ...flags], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let sent = false;
      const onData = (d: Buffer) => {
        out += d.toString();
        if (signal && when && !sent && when.test(out)) {
          sent = true;
          child.kill(signal);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (status) => resolve({ status, out }));
      child.stdin.end(text);
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} during the base backup rolls back: the old cluster runs again, the next run converges`, async () => {
      const parent = path.join(primary.dir, signal);
      asPg(['mkdir', '-m', '0700', parent]);
      const dir = path.join(parent, 'data');
      dirs.push(dir);
      const port = await neverStartedCluster(dir, parent);
      assert.equal(asPg(pgCtl(dir, '-l', `${dir}.log`, '-w', 'start').slice(4)).status, 0);
      const oldId = sysid(dir);
      const slot = `int_${signal.slice(3).toLowerCase()}`;
      const r = await runSignalled(script(dir, slot), [], signal, /step basebackup:/);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, new RegExp(`step rollback: stopped at 'interrupted by ${signal}'`));
      // Between 'step basebackup' and the rollback nothing else ran: the copy itself was interrupted.
      const between = r.out.slice(r.out.indexOf('step basebackup:'), r.out.indexOf('step rollback:'));
      assert.doesNotMatch(between, /step (configure|start)/, r.out);
      console.log(
        `      during the copy: ${JSON.stringify(between.split('\n').slice(1).join(' ').trim()).slice(0, 120)}`,
      );
      assert.match(r.out, /step rollback: .* restored/);
      assert.match(r.out, /step rollback: PostgreSQL started again/);
      assert.match(r.out, new RegExp(`step rollback: dropped slot ${slot}`));
      assert.equal(sysid(dir), oldId, 'the old data directory is back');
      assert.deepEqual(
        await query(`postgres://postgres@127.0.0.1:${port}/postgres`, 'SELECT pg_is_in_recovery() AS r'),
        [{ r: false }],
      );
      assert.deepEqual(
        await query(primary.url(), 'SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [slot]),
        [],
      );
      const failed = readdirSync(parent).filter((f) => f.startsWith('data.orch-failed-'));
      assert.equal(failed.length, 1, readdirSync(parent).join(','));
      assert.equal(
        readdirSync(parent).some((f) => f.startsWith('data.orch-old-')),
        false,
      );

      // The next run reports the failed copy and converges.
      const again = await runSignalled(script(dir, slot), []);
      assert.equal(again.status, 0, again.out);
      assert.match(
        again.out,
        new RegExp(
          `leftover: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.orch-failed-\\d{14} \\(\\d+ MB, from \\d{14}\\) from an earlier rebuild`,
        ),
      );
      assert.match(again.out, /changed: replica built/);
      assert.equal(sysid(dir), sysid(primary.dataDir));
      const check = await runSignalled(script(dir, slot), ['--check']);
      assert.equal(check.status, 0, check.out);
      const outcome = interpretReplicaCheck(
        postgresReplica.args.parse({ primary: 'p', replication_user: 'r', slot, version: 15, pgpass: '/p' }),
        {
          index: 0,
          status: 0,
          kv: { rc: '0' },
          text: check.out,
        },
      );
      // A copy left beside the data directory is drift until the retention or the admin removes it.
      assert.equal(outcome.status, 'change');
      assert.match(outcome.comment, /no change: healthy standby[\s\S]*\nleftover: .*orch-failed-/);
      assert.match(outcome.diff!, /^leftover: .*orch-failed-\d{14} \(\d+ MB, from \d{14}\)/);
      stopIfRunning(dir);
    });
  }

  it('a held lock keeps a second run off the data directory', async () => {
    const dir = path.join(primary.dir, 'locked');
    const ck = spawnSync('sh', ['-c', 'printf %s "$1" | cksum', 'ck', dir], {
      encoding: 'utf8',
    }).stdout.split(' ')[0]!;
    const lock = `/run/pg_make_replica.${ck}.lock`;
    const holder = spawn('flock', ['-x', lock, 'sleep', '60'], { stdio: 'ignore' });
    try {
      await new Promise((res) => setTimeout(res, 300));
      const r = await runSignalled(script(dir, 'locked_1'), ['--check']);
      assert.equal(r.status, 3, r.out);
      assert.match(
        r.out,
        /refused: another pg_make_replica works on .*locked \(lock \/run\/pg_make_replica\.\d+\.lock held for over 10s\)/,
      );
    } finally {
      holder.kill('SIGTERM');
    }
  });
});
