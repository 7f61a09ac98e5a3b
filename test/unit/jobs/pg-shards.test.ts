// Sharded jobs in the PostgreSQL store, against a real PostgreSQL 15 in a temp dir: claims through SKIP LOCKED from
// several connections never share a shard, a shard whose lease ran out is handed to another worker (and the old
// holder can no longer renew or complete it), the job ends exactly once when its last shard is done, host locks
// follow the shard, cancel settles the shards nobody runs, and claimNext never hands a sharded job to one worker.
import { strict as assert } from 'node:assert';
import pg from 'pg';
import { OrchError } from '../../../src/errors.js';
import { openPgStore, type PgJobStore } from '../../../src/jobs/pg-store.js';
import { PG_SCHEMA_VERSION } from '../../../src/jobs/pg-schema.js';
import { splitShards } from '../../../src/jobs/shards.js';
import type { ClaimedShard, NewJob } from '../../../src/jobs/store.js';
import { startTempPostgres, type TempPostgres } from '../../helpers/temp-postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function applyJob(hosts: string[]): NewJob {
  return { verb: 'apply', target: '*', args: { hosts }, user: 'u', status: 'queued' };
}

function hostNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `h${String(i).padStart(3, '0')}.example.com`);
}

/** A clean apply result of one host, as the engine stores it. */
function okResult(host: string): Record<string, unknown> {
  return {
    host,
    ok: true,
    states: [
      { id: 's', fn: 'cmd.run', name: 's', status: 'changed', result: true, changed: true, comment: '' },
    ],
    stats: { connections: 1, execs: 2 },
    ms: 1,
    phases: [],
  };
}

async function claimAll(store: PgJobStore, worker: string): Promise<ClaimedShard[]> {
  const got: ClaimedShard[] = [];
  for (let i = 0; i < 1000; i++) {
    const c = await store.claimShard(worker, 60_000);
    if (!c) break;
    got.push(c);
  }
  return got;
}

describe('jobs/pg-store: sharded jobs', function () {
  this.timeout(120_000);
  let server: TempPostgres;
  let n = 0;
  const open: PgJobStore[] = [];

  before(async () => {
    server = await startTempPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  async function stores(count: number): Promise<PgJobStore[]> {
    const url = await server.createDatabase(`shards_${++n}`);
    const made: PgJobStore[] = [];
    for (let i = 0; i < count; i++) made.push(await openPgStore(url));
    open.push(...made);
    return made;
  }

  it('keeps shards in orch.job_shards and orch.shard_hosts (schema version 3)', async () => {
    const [s] = await stores(1);
    assert.equal(PG_SCHEMA_VERSION, 3);
    const job = await s!.createSharded(applyJob(hostNames(5)), splitShards(hostNames(5), 2));
    assert.equal(job.status, 'queued');
    assert.equal(job.shardSize, 2);
    assert.deepEqual(
      job.shards?.map((x) => [x.shard, x.state, x.attempt, x.hosts]),
      [
        [0, 'queued', 0, ['h000.example.com', 'h001.example.com']],
        [1, 'queued', 0, ['h002.example.com', 'h003.example.com']],
        [2, 'queued', 0, ['h004.example.com']],
      ],
    );
    assert.equal(await s!.claimNext('w', 1000), null, 'a sharded job is never claimed whole');
  });

  it('refuses shards that overlap or are empty, and sharding with no host', async () => {
    const [s] = await stores(1);
    await assert.rejects(s!.createSharded(applyJob(['a', 'b']), [['a'], ['a', 'b']]), OrchError);
    await assert.rejects(s!.createSharded(applyJob(['a']), [['a'], []]), OrchError);
    assert.throws(() => splitShards([], 3), /at least one host/);
    assert.throws(() => splitShards(['a'], 0), /positive integer/);
  });

  it('SKIP LOCKED: a shard row locked by another transaction is skipped, not waited for', async () => {
    const [s] = await stores(1);
    const job = await s!.createSharded(applyJob(hostNames(4)), splitShards(hostNames(4), 2));
    const raw = new pg.Client({ connectionString: server.url(`shards_${n}`) });
    await raw.connect();
    try {
      await raw.query('BEGIN');
      await raw.query(`SELECT 1 FROM orch.job_shards WHERE jid = $1 AND shard = 0 FOR UPDATE`, [job.jid]);
      const c = await s!.claimShard('w1', 60_000);
      assert.equal(c?.shard, 1, 'the locked shard 0 is skipped');
      assert.equal(await s!.claimShard('w1', 60_000), null, 'and not waited for');
      await raw.query('ROLLBACK');
      assert.equal((await s!.claimShard('w2', 60_000))?.shard, 0, 'free again once the other lets go');
    } finally {
      await raw.end();
    }
  });

  it('two and three concurrent claimers (own connections) never get the same shard, and get them all', async () => {
    for (const claimers of [2, 3]) {
      const all = await stores(claimers);
      const hosts = hostNames(60);
      const job = await all[0]!.createSharded(applyJob(hosts), splitShards(hosts, 2));
      const got = await Promise.all(all.map((s, i) => claimAll(s, `w${i}`)));
      const keys = got.flat().map((c) => `${c.jid}/${c.shard}`);
      assert.equal(keys.length, 30, `${claimers} claimers: every shard claimed`);
      assert.equal(new Set(keys).size, 30, `${claimers} claimers: no shard twice`);
      assert.deepEqual(
        got
          .flat()
          .flatMap((c) => c.hosts)
          .sort(),
        hosts,
      );
      const seen = (await all[0]!.get(job.jid))!;
      assert.equal(seen.status, 'running');
      assert.ok(seen.shards!.every((x) => x.state === 'claimed' && x.attempt === 1));
      // Each claimer holds what it claimed and nothing else.
      for (const [i, mine] of got.entries())
        for (const c of mine) assert.equal(seen.shards![c.shard]!.worker, `w${i}`);
    }
  });

  it('hands a shard over when its lease runs out; the old holder can neither renew nor complete it', async () => {
    const [a, b] = await stores(2);
    const job = await a!.createSharded(applyJob(['x', 'y']), [['x', 'y']]);
    const first = await a!.claimShard('wa', 300);
    assert.equal(first?.attempt, 1);
    assert.ok(await a!.lockHosts(job.jid, first!.hosts, 300).then((r) => r.ok));
    await a!.putHostResult(job.jid, 'x', 'changed', okResult('x'));
    assert.equal(await b!.claimShard('wb', 60_000), null, 'not while the lease holds');
    let second: ClaimedShard | null = null;
    for (let i = 0; i < 100 && !second; i++) {
      await sleep(50);
      second = await b!.claimShard('wb', 60_000);
    }
    assert.ok(second, 'handed over after the lease');
    assert.equal(second.shard, 0);
    assert.equal(second.attempt, 2);
    assert.equal(second.job.hosts.x?.status, 'changed', 'the new holder sees the results already recorded');
    // The same job may take its hosts again; another job may not.
    assert.ok((await b!.lockHosts(job.jid, second.hosts, 60_000)).ok);
    const other = await b!.create({ verb: 'apply', target: 'y', args: {}, user: 'u', status: 'queued' });
    assert.deepEqual(await b!.lockHosts(other.jid, ['y'], 60_000), { ok: false, host: 'y', heldBy: job.jid });
    assert.equal(await a!.heartbeatShard(job.jid, 0, 'wa', 300), false);
    assert.deepEqual(await a!.completeShard(job.jid, 0, 'wa', 0), { completed: false });
    assert.equal(await b!.heartbeatShard(job.jid, 0, 'wb', 60_000), true);
    await b!.putHostResult(job.jid, 'y', 'changed', okResult('y'));
    const done = await b!.completeShard(job.jid, 0, 'wb', 0);
    assert.deepEqual(done, { completed: true, finished: { status: 'succeeded', exitCode: 0 } });
    assert.ok((await b!.lockHosts(other.jid, ['y'], 60_000)).ok, 'its locks went with it');
    const end = (await a!.get(job.jid))!;
    assert.equal(end.status, 'succeeded');
    assert.deepEqual(
      end.shards!.map((x) => [x.state, x.worker, x.attempt]),
      [['done', 'wb', 2]],
    );
  });

  it('a released shard goes back to the queue at once, its locks freed', async () => {
    const [a, b] = await stores(2);
    const job = await a!.createSharded(applyJob(['x']), [['x']]);
    const c = await a!.claimShard('wa', 60_000);
    assert.ok((await a!.lockHosts(job.jid, c!.hosts, 60_000)).ok);
    assert.equal(await a!.releaseShard(job.jid, 0, 'wa'), true);
    assert.equal(await a!.releaseShard(job.jid, 0, 'wa'), false);
    const again = await b!.claimShard('wb', 60_000);
    assert.equal(again?.attempt, 2);
    const other = await b!.create({ verb: 'apply', target: 'x', args: {}, user: 'u', status: 'queued' });
    assert.ok((await b!.lockHosts(other.jid, ['x'], 60_000)).ok);
  });

  it('the job ends once, when the last shard is done, with the result of all its hosts', async () => {
    for (let round = 0; round < 5; round++) {
      const all = await stores(3);
      const hosts = hostNames(12);
      const job = await all[0]!.createSharded(applyJob(hosts), splitShards(hosts, 1));
      const claims = await Promise.all(all.map((s, i) => claimAll(s, `w${i}`)));
      for (const h of hosts) await all[0]!.putHostResult(job.jid, h, 'changed', okResult(h));
      // Every worker completes its shards at the same moment, on its own connection.
      const results = await Promise.all(
        claims.map((mine, i) =>
          Promise.all(mine.map((c) => all[i]!.completeShard(c.jid, c.shard, `w${i}`, 0))),
        ),
      );
      const finished = results.flat().filter((r) => r.finished);
      assert.equal(results.flat().length, 12);
      assert.ok(results.flat().every((r) => r.completed));
      assert.equal(finished.length, 1, `round ${round}: exactly one completion ended the job`);
      const end = (await all[1]!.get(job.jid))!;
      assert.equal(end.status, 'succeeded');
      assert.equal(end.exitCode, 0);
      assert.equal(end.summary?.hosts, 12);
      assert.equal(end.summary?.shards, 12);
      assert.deepEqual(end.summary?.states, {
        clean: 0,
        changed: 12,
        would_change: 0,
        unknown: 0,
        failed: 0,
        not_run: 0,
      });
    }
  });

  it('a failed host or a shard exit code fails the one job; hosts without a result are counted missing', async () => {
    const [s] = await stores(1);
    const job = await s!.createSharded(applyJob(['a', 'b', 'c']), [['a', 'b'], ['c']]);
    const c0 = await s!.claimShard('w', 60_000);
    const c1 = await s!.claimShard('w', 60_000);
    await s!.putHostResult(job.jid, 'a', 'changed', okResult('a'));
    await s!.putHostResult(job.jid, 'b', 'unreachable', {
      host: 'b',
      ok: false,
      error: { code: 'HOST_UNREACHABLE', message: 'no' },
      states: [],
    });
    await s!.putHostResult(job.jid, 'c', 'running', { progress: { phase: 'checking' } });
    assert.equal((await s!.completeShard(job.jid, c0!.shard, 'w', 3)).finished, undefined);
    const last = await s!.completeShard(job.jid, c1!.shard, 'w', 5);
    assert.deepEqual(last.finished, { status: 'failed', exitCode: 5 });
    const end = (await s!.get(job.jid))!;
    assert.equal(end.summary?.missing, 1);
    assert.equal(end.hosts.c?.status, 'interrupted', 'a host left running is not shown running');
  });

  it('cancel: a queued sharded job at once; a running one once its claimed shards are done', async () => {
    const [s] = await stores(1);
    const queued = await s!.createSharded(applyJob(['a', 'b']), [['a'], ['b']]);
    assert.equal((await s!.requestCancel(queued.jid))?.status, 'cancelled');
    assert.ok((await s!.get(queued.jid))!.shards!.every((x) => x.state === 'done'));
    assert.equal(await s!.claimShard('w', 60_000), null);

    const job = await s!.createSharded(applyJob(['a', 'b', 'c']), [['a'], ['b'], ['c']]);
    const c0 = await s!.claimShard('w', 60_000);
    const after = (await s!.requestCancel(job.jid))!;
    assert.equal(after.status, 'running');
    assert.deepEqual(
      after.shards!.map((x) => x.state),
      ['claimed', 'done', 'done'],
    );
    assert.equal(await s!.claimShard('w2', 60_000), null, 'nothing more is claimed');
    assert.equal(await s!.isCancelRequested(job.jid), true);
    const end = await s!.completeShard(job.jid, c0!.shard, 'w', 0);
    assert.equal(end.finished?.status, 'cancelled');
    assert.equal((await s!.get(job.jid))!.status, 'cancelled');
  });

  it("a cancelled job's shard left by a dead worker is settled once its lease runs out", async () => {
    const [s] = await stores(1);
    const job = await s!.createSharded(applyJob(['a']), [['a']]);
    await s!.claimShard('dead', 200);
    await s!.requestCancel(job.jid);
    let status = '';
    for (let i = 0; i < 100 && status !== 'cancelled'; i++) {
      await sleep(50);
      await s!.claimShard('w', 60_000);
      status = (await s!.get(job.jid))!.status;
    }
    assert.equal(status, 'cancelled');
  });

  it('the reaper and liveness checks leave a running sharded job alone (it has no job-level lease)', async () => {
    const [s] = await stores(1);
    const job = await s!.createSharded(applyJob(['a']), [['a']]);
    await s!.claimShard('w', 60_000);
    assert.deepEqual(await s!.reapExpired(new Date(Date.now() + 3600_000)), []);
    const seen = (await s!.get(job.jid))!;
    assert.equal(seen.status, 'running');
    assert.equal(seen.worker, undefined);
  });
});
