// pg_make_replica killed outright (SIGKILL: no trap runs) at each step of a rebuild, on real PostgreSQL: the
// record in the state directory tells the next run what was left; --check reports it and changes nothing; the
// next run stops an orphaned base backup, rolls back (or resumes a started copy) and then converges. Nothing of
// the old data directory is lost. Retention removes old copies after a successful build.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { leftoverScript, parseLeftovers } from '../../../../src/pg/rebuild-leftovers.js';
import { interpretReplicaCheck, postgresReplica } from '../../../../src/states/postgres/replica.js';
import type { ReplicaScriptInput } from '../../../../src/states/postgres/replica-context.js';
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

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('pg_make_replica killed outright (real PostgreSQL)', function () {
  this.timeout(600_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root');
    return;
  }
  let primary: TempPostgres;
  let pgpass: string;
  const dirs: string[] = [];
  // Root's own directory (the chain up to / is root's, mode 0755 or closer), as on a real host.
  const stateDir = `/var/lib/orch/pg_make_replica-test-${process.pid}`;

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    // Enough data that the copy takes a moment: the kill lands while pg_basebackup runs.
    await query(
      primary.url(),
      'CREATE TABLE bulk AS SELECT g, repeat(md5(g::text), 30) AS v FROM generate_series(1, 200000) g',
    );
  });
  after(async () => {
    for (const d of dirs) stopIfRunning(d);
    await primary?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const ctl = (dir: string, ...rest: string[]) => pgCtl(dir, ...rest).join(' ');

  function script(dir: string, slot: string, over: Partial<ReplicaScriptInput> = {}): string {
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
        ...over,
      }),
    );
  }

  /**
   * Run the script; when a line matches `when`, SIGKILL its shell alone (`shell`: what it started runs on,
   * like a killed login shell) or its whole process group (`group`: like a killed session scope).
   */
  function run(
    text: string,
    flags: string[] = [],
    kill?: { when: RegExp; what: 'shell' | 'group' },
  ): Promise<{ status: number | null; signal: string | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-s', '--', ...flags], {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let out = '';
      let sent = false;
      const onData = (d: Buffer) => {
        out += d.toString();
        if (kill && !sent && kill.when.test(out)) {
          sent = true;
          if (kill.what === 'group') process.kill(-child.pid!, 'SIGKILL');
          else child.kill('SIGKILL');
          // The shell is gone: its orphans may still hold the pipes open.
          setTimeout(() => resolve({ status: null, signal: 'SIGKILL', out }), 500);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (status, signal) => {
        if (!sent) resolve({ status, signal, out });
      });
      child.stdin.end(text);
    });
  }

  function stateFile(): string | undefined {
    if (!existsSync(stateDir)) return undefined;
    const f = readdirSync(stateDir).filter((n) => n.endsWith('.state'));
    return f.length === 1 ? path.join(stateDir, f[0]!) : undefined;
  }

  function checkOutcome(slot: string, out: string, rc: number) {
    return interpretReplicaCheck(
      postgresReplica.args.parse({ primary: 'p', replication_user: 'r', slot, version: 15, pgpass: '/p' }),
      { index: 0, status: 0, kv: { rc: String(rc) }, text: out },
    );
  }

  async function slotExists(slot: string): Promise<boolean> {
    return (
      (await query(primary.url(), 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]))
        .length === 1
    );
  }

  /** A started cluster of its own (pristine, or with a table of `rows` rows), a marker file in its directory. */
  async function oldCluster(name: string, rows = 0): Promise<{ dir: string; port: number; id: string }> {
    const parent = path.join(primary.dir, name);
    asPg(['mkdir', '-m', '0700', parent]);
    const dir = path.join(parent, 'data');
    dirs.push(dir);
    const port = await neverStartedCluster(dir, parent);
    assert.equal(asPg(pgCtl(dir, '-l', `${dir}.log`, '-w', 'start').slice(4)).status, 0);
    if (rows > 0) {
      await query(
        `postgres://postgres@127.0.0.1:${port}/postgres`,
        `CREATE TABLE precious AS SELECT g FROM generate_series(1, ${rows}) g`,
      );
    }
    writeFileSync(path.join(dir, 'marker-of-the-old-cluster'), name);
    return { dir, port, id: sysid(dir) };
  }

  const copies = (dir: string, kind: 'old' | 'failed') =>
    readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`data.orch-${kind}-`));

  it('killed after stopping PostgreSQL, before the move: the next run starts the old one and converges', async () => {
    const { dir, id } = await oldCluster('before-move');
    const slot = 'kill_before_move';
    const stopThenHang = [
      'sh',
      '-c',
      `${ctl(dir, '-m', 'fast', '-w', '-t', '60', 'stop')} && echo stopped-for-the-test && sleep 60`,
    ];
    const r = await run(script(dir, slot, { serviceStop: stopThenHang }), [], {
      when: /stopped-for-the-test/,
      what: 'group',
    });
    assert.equal(r.signal, 'SIGKILL', r.out);
    assert.doesNotMatch(r.out, /step (move|rollback)/);
    const record = readFileSync(stateFile()!, 'utf8');
    assert.match(record, /^step=stopping$/m);
    assert.match(record, new RegExp(`^data_dir=${reEscape(dir)}$`, 'm'));
    assert.equal(sysid(dir), id, 'the old data directory is still in place');

    const check = await run(script(dir, slot), ['--check']);
    assert.equal(check.status, 10, check.out);
    assert.match(
      check.out,
      /plan: a rebuild started \d{14} was interrupted at step 'stopping' and not rolled back \(the previous data directory is still .*\): roll it back/,
    );
    assert.match(
      checkOutcome(slot, check.out, 10).comment,
      /interrupted rebuild that the next run resumes or rolls back/,
    );
    assert.ok(stateFile(), '--check leaves the record alone');

    const again = await run(script(dir, slot));
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /step recover: a rebuild started \d{14} was interrupted at step 'stopping'/);
    assert.match(again.out, /step rollback: PostgreSQL started again/);
    assert.match(
      again.out,
      /changed: rolled back the rebuild interrupted at step 'stopping' \(nothing had been moved\)/,
    );
    assert.match(again.out, /changed: replica built/);
    assert.equal(stateFile(), undefined, 'the record is gone after success');
    assert.equal(sysid(dir), sysid(primary.dataDir));
    assert.deepEqual(copies(dir, 'old'), []);
    stopIfRunning(dir);
  });

  it('killed during the base backup (it runs on): the next run stops it, restores the used old cluster intact and refuses; a forced run converges and keeps it', async () => {
    const { dir, port, id } = await oldCluster('during-copy', 1234);
    const slot = 'kill_during_copy';
    const r = await run(script(dir, slot, { force: true }), [], { when: /step basebackup:/, what: 'shell' });
    assert.equal(r.signal, 'SIGKILL', r.out);
    assert.match(r.out, /step move: .* renamed to .*orch-old-\d{14}/);
    const record = readFileSync(stateFile()!, 'utf8');
    // The kill may land before the record names the copy's pid: then the next run finds it by its arguments.
    assert.match(record, /^step=(created|basebackup)$/m);
    const old = /^old=(.*)$/m.exec(record)![1]!;
    assert.ok(
      existsSync(path.join(old, 'marker-of-the-old-cluster')),
      'the old directory is where the record says',
    );

    const check = await run(script(dir, slot), ['--check']);
    assert.equal(check.status, 10, check.out);
    assert.match(
      check.out,
      /interrupted at step '(created|basebackup)' and not rolled back \(the previous data directory is .*orch-old-/,
    );

    // Not forced this time: after the rollback the preflight sees a used cluster and refuses, touching nothing.
    const again = await run(script(dir, slot));
    assert.equal(again.status, 3, again.out);
    console.log(`      orphaned copy stopped by the next run: ${/stopping the base backup/.test(again.out)}`);
    assert.match(again.out, /step rollback: new data directory kept as .*orch-failed-\d{14}/);
    assert.match(again.out, new RegExp(`step rollback: ${reEscape(dir)} restored`));
    assert.match(again.out, /step rollback: PostgreSQL started again/);
    assert.match(
      again.out,
      /changed: rolled back the rebuild interrupted at step '(created|basebackup)' \(.* restored from .*orch-old-/,
    );
    assert.match(again.out, /refused: a PRIMARY is running on .* and it is not pristine/);
    assert.equal(stateFile(), undefined);
    assert.equal(sysid(dir), id, 'the old cluster is back');
    assert.deepEqual(
      await query(
        `postgres://postgres@127.0.0.1:${port}/postgres`,
        'SELECT count(*)::int AS n FROM precious',
      ),
      [{ n: 1234 }],
    );
    assert.ok(existsSync(path.join(dir, 'marker-of-the-old-cluster')));
    assert.equal(await slotExists(slot), false, 'the slot made for the killed rebuild is dropped');
    assert.equal(
      spawnSync('sh', ['-c', `ps -A -ww -o args= | grep -F -- "pg_basebackup -D ${dir} " | grep -v grep`])
        .status,
      1,
      'no base backup runs on',
    );

    // Forced, with a retention of one copy: the forced run's own old copy stays, the failed one goes.
    const forced = await run(script(dir, slot, { force: true, keepOldCount: 1 }));
    assert.equal(forced.status, 0, forced.out);
    assert.match(
      forced.out,
      /leftover: .*orch-failed-\d{14} \(\d+ MB, from \d{14}\) from an earlier rebuild; kept by the retention/,
    );
    assert.match(forced.out, /step cleanup: kept the previous data directory as .*orch-old-/);
    assert.match(
      forced.out,
      /step cleanup: removed .*orch-failed-\d{14} \(beyond the newest 1 kept \(keep_old_count\)\)/,
    );
    assert.deepEqual(copies(dir, 'failed'), []);
    const kept = copies(dir, 'old');
    assert.equal(kept.length, 1);
    assert.equal(sysid(path.join(path.dirname(dir), kept[0]!)), id, 'the used cluster is kept whole');
    assert.equal(sysid(dir), sysid(primary.dataDir));

    // `orch pg status` lists it with its size, from the record of this data directory.
    const listed = parseLeftovers(
      spawnSync('/bin/sh', ['-s'], { input: leftoverScript([stateDir]), encoding: 'utf8' }).stdout,
    );
    assert.deepEqual(
      listed.copies.filter((c) => c.dataDir === dir).map((c) => [c.kind, path.basename(c.path)]),
      [['old', kept[0]]],
    );
    assert.ok(listed.copies.find((c) => c.dataDir === dir)!.bytes! > 1048576);
    // The kept copy is drift until it is gone.
    const c = await run(script(dir, slot, { keepOldCount: 1 }), ['--check']);
    assert.equal(c.status, 0, c.out);
    const outcome = checkOutcome(slot, c.out, 0);
    assert.equal(outcome.status, 'change');
    assert.match(
      outcome.diff!,
      /leftover: .*orch-old-\d{14} \(\d+ MB, from \d{14}\) .*kept by the retention/,
    );
    stopIfRunning(dir);
  });

  it('killed after the move and the copy, before the start: the next run rolls back and converges', async () => {
    const { dir } = await oldCluster('before-start');
    const slot = 'kill_before_start';
    const hangThenStart = [
      'sh',
      '-c',
      `echo starting-for-the-test && sleep 60 && ${ctl(dir, '-l', `${dir}.log`, '-w', 'start')}`,
    ];
    const r = await run(script(dir, slot, { serviceStart: hangThenStart }), [], {
      when: /starting-for-the-test/,
      what: 'group',
    });
    assert.equal(r.signal, 'SIGKILL', r.out);
    assert.match(r.out, /step start: starting PostgreSQL on the new copy/);
    assert.match(readFileSync(stateFile()!, 'utf8'), /^step=starting$/m);
    const old = /^old=(.*)$/m.exec(readFileSync(stateFile()!, 'utf8'))![1]!;
    assert.ok(existsSync(path.join(old, 'marker-of-the-old-cluster')));

    const again = await run(script(dir, slot));
    assert.equal(again.status, 0, again.out);
    assert.match(
      again.out,
      /changed: rolled back the rebuild interrupted at step 'starting' \(.* restored from/,
    );
    // The old cluster ran again before this run judged it (pristine) and rebuilt it.
    assert.match(again.out, /step rollback: PostgreSQL started again[\s\S]*plan: a pristine cluster runs on/);
    assert.match(again.out, /changed: replica built/);
    assert.equal(stateFile(), undefined);
    assert.equal(sysid(dir), sysid(primary.dataDir));
    stopIfRunning(dir);
  });

  it('a failed build puts a slot made ahead back without reserved WAL (it keeps no WAL for nobody)', async () => {
    const { dir, port, id } = await oldCluster('premade-slot');
    const slot = 'premade_unreserved';
    await query(primary.url(), `SELECT pg_create_physical_replication_slot('${slot}', false)`);
    // The new copy (it has standby.signal) does not start; the old one does.
    const failNew = [
      'sh',
      '-c',
      `test -f "$1/standby.signal" && exit 1; exec ${ctl(dir, '-l', `${dir}.log`, '-w', 'start')}`,
      'start',
      dir,
    ];
    const r = await run(script(dir, slot, { serviceStart: failNew, streamWaitSeconds: 5 }));
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /step slot: reusing existing slot premade_unreserved/);
    assert.match(r.out, /step rollback: slot premade_unreserved made again without reserved WAL/);
    assert.deepEqual(
      await query(primary.url(), 'SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]),
      [{ restart_lsn: null }],
    );
    assert.equal(sysid(dir), id);
    assert.deepEqual(
      await query(`postgres://postgres@127.0.0.1:${port}/postgres`, 'SELECT pg_is_in_recovery() AS r'),
      [{ r: false }],
    );
    assert.equal(stateFile(), undefined, 'a rollback that worked leaves no record');
    stopIfRunning(dir);
  });

  it('killed after the new copy started: the next run resumes it (no second copy) and applies the retention', async () => {
    const { dir } = await oldCluster('after-start');
    const slot = 'kill_after_start';
    // A failed copy from an earlier rebuild, for the retention to remove.
    asPg(['mkdir', '-m', '0700', `${dir}.orch-failed-20200101000000`]);
    const r = await run(script(dir, slot), [], { when: /step start: PostgreSQL started;/, what: 'group' });
    assert.equal(r.signal, 'SIGKILL', r.out);
    assert.match(readFileSync(stateFile()!, 'utf8'), /^step=started$/m);

    const again = await run(script(dir, slot, { keepOldDays: 30 }));
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /step recover: the new copy was started/);
    assert.doesNotMatch(again.out, /step basebackup/, 'no second copy');
    assert.match(again.out, /step cleanup: removed .*orch-old-\d{14}$/m);
    assert.match(
      again.out,
      /step cleanup: removed .*orch-failed-20200101000000 \(older than 30 days \(keep_old_days\)\)/,
    );
    assert.match(again.out, /changed: resumed the rebuild interrupted at step 'started'/);
    assert.equal(stateFile(), undefined);
    assert.deepEqual([...copies(dir, 'old'), ...copies(dir, 'failed')], []);
    const check = await run(script(dir, slot), ['--check']);
    assert.equal(check.status, 0, check.out);
    assert.equal(checkOutcome(slot, check.out, 0).status, 'clean');
    stopIfRunning(dir);
  });
});
