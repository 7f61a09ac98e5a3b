// The behaviour every JobStore must show, written once and run against each store (SQLite and PostgreSQL).
// A harness gives fresh empty stores as spec strings (what ORCH_JOB_STORE holds) and opens instances of them.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { OrchError } from '../../../src/errors.js';
import { JidGenerator, isJid } from '../../../src/jobs/jid.js';
import type { JobRecord, JobStore, NewJob } from '../../../src/jobs/store.js';
import { MASK, redactor } from '../../../src/secrets/redactor.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const childScript = path.join(repoRoot, 'test/helpers/job-store-child.ts');

export interface StoreHarness {
  /** Spec of a new, empty store. */
  fresh(): Promise<string>;
  /** Open one more instance (own connection) of the store a spec names. */
  open(spec: string, opts?: { jids?: JidGenerator }): Promise<JobStore>;
  /** Specs that must fail to open with JOB_STORE_ERROR. */
  badSpecs(): string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function job(over: Partial<NewJob> = {}): NewJob {
  return { verb: 'apply', target: 'web1', args: { test: false }, user: 'alice', status: 'queued', ...over };
}

/** Run the child helper in its own node process. */
async function child(mode: string, spec: string, arg: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', childScript, mode, spec, arg], {
    cwd: repoRoot,
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout);
}

/** Run several children and release them together once every one has its store open. */
async function childrenAtOnce(runs: [mode: string, spec: string, arg: string][]): Promise<unknown[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-barrier-'));
  const base = path.join(dir, 'b');
  try {
    const all = Promise.all(runs.map(([m, s, a]) => child(m, s, a, { ORCH_TEST_BARRIER: base })));
    let failed: unknown = null;
    all.catch((e: unknown) => (failed = e));
    for (let i = 0; i < 6000 && !failed; i++) {
      if (readdirSync(dir).filter((f) => f.endsWith('.ready')).length === runs.length) break;
      await sleep(10);
    }
    writeFileSync(`${base}.go`, '');
    return await all;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<OrchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OrchError, `expected OrchError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** Define the shared store tests; harness() is read lazily because servers start in before(). */
export function defineStoreSuite(harness: () => StoreHarness): void {
  let spec: string;
  let store: JobStore;
  const extra: JobStore[] = [];

  async function another(opts?: { jids?: JidGenerator }): Promise<JobStore> {
    const s = await harness().open(spec, opts);
    extra.push(s);
    return s;
  }

  beforeEach(async () => {
    spec = await harness().fresh();
    store = await harness().open(spec);
  });

  afterEach(async () => {
    await store.close();
    for (const s of extra.splice(0)) await s.close();
  });

  describe('topology records', () => {
    const rec = (primary: string) => ({
      cluster: 'db1:5432/main',
      primary,
      standbys: { db2: { upstream: primary, slot: 'db2' } },
      timeline: 2,
      verb: 'pg switchover',
      updatedAt: new Date().toISOString(),
    });

    it('writes compare-and-set on the epoch, visible to another instance', async () => {
      assert.deepEqual(await store.listTopologies(), []);
      assert.equal(await store.putTopology(rec('db1'), 1), false, 'no record yet: epoch 0 expected');
      assert.equal(await store.putTopology(rec('db1'), 0), true);
      assert.equal(await store.putTopology(rec('db3'), 0), false, 'a second first write loses');
      const other = await another();
      assert.equal(await other.putTopology(rec('db3'), 1), true);
      const [got] = await store.listTopologies();
      assert.equal(got!.epoch, 2);
      assert.equal(got!.primary, 'db3');
      assert.deepEqual(got!.standbys, { db2: { upstream: 'db3', slot: 'db2' } });
    });

    it('of two verbs racing from one epoch exactly one records', async () => {
      await store.putTopology(rec('db1'), 0);
      const other = await another();
      const won = await Promise.all([store.putTopology(rec('db2'), 1), other.putTopology(rec('db3'), 1)]);
      assert.deepEqual(won.filter(Boolean).length, 1);
      assert.equal((await store.listTopologies())[0]!.epoch, 2);
    });
  });

  describe('create, get, list', () => {
    it('creates queued and running jobs and reads them back', async () => {
      const q = await store.create(job({ args: { test: true, states: ['a', 'b'] } }));
      assert.ok(isJid(q.jid), q.jid);
      assert.equal(q.status, 'queued');
      assert.equal(q.verb, 'apply');
      assert.equal(q.target, 'web1');
      assert.equal(q.user, 'alice');
      assert.deepEqual(q.args, { test: true, states: ['a', 'b'] });
      assert.deepEqual(q.hosts, {});
      assert.equal(q.startedAt, undefined);
      assert.equal(q.leaseUntil, undefined);
      assert.ok(Math.abs(Date.parse(q.createdAt) - Date.now()) < 60_000);
      assert.deepEqual(await store.get(q.jid), q);

      const r = await store.create(job({ status: 'running', worker: 'cli-1', leaseMs: 5000 }));
      assert.equal(r.status, 'running');
      assert.equal(r.worker, 'cli-1');
      assert.ok(r.startedAt);
      assert.ok(Date.parse(r.leaseUntil!) > Date.now());
      assert.ok(r.jid > q.jid);
      assert.equal(await store.get('20000101000000000000'), null);
    });

    it('refuses a bad new job', async () => {
      await rejectsWith(store.create(job({ status: 'succeeded' as 'queued' })), 'BAD_INPUT');
      await rejectsWith(store.create(job({ verb: '' })), 'BAD_INPUT');
      await rejectsWith(store.create(job({ status: 'running' })), 'BAD_INPUT');
      await rejectsWith(store.create(job({ status: 'running', worker: 'w', leaseMs: 0 })), 'BAD_INPUT');
    });

    it('lists newest first and filters by verb, target, status, host, since and limit', async () => {
      const a = await store.create(job({ verb: 'apply', target: 'web1' }));
      const b = await store.create(job({ verb: 'drift', target: '*' }));
      const c = await store.create(job({ verb: 'run', target: 'db*' }));
      await store.putHostResult(b.jid, 'db1', 'ok', { changed: 0 });
      await store.putHostResult(c.jid, 'db1', 'ok', { rc: 0 });
      await store.finish(c.jid, 'failed', 1);

      const all = await store.list({});
      assert.deepEqual(
        all.map((j) => j.jid),
        [c.jid, b.jid, a.jid],
      );
      assert.equal(all[0]!.hosts.db1!.status, 'ok');
      assert.deepEqual(
        (await store.list({ verb: 'drift' })).map((j) => j.jid),
        [b.jid],
      );
      assert.deepEqual(
        (await store.list({ target: 'web1' })).map((j) => j.jid),
        [a.jid],
      );
      assert.deepEqual(
        (await store.list({ status: 'failed' })).map((j) => j.jid),
        [c.jid],
      );
      assert.deepEqual(
        (await store.list({ host: 'db1' })).map((j) => j.jid),
        [c.jid, b.jid],
      );
      assert.deepEqual(
        (await store.list({ host: 'web1' })).map((j) => j.jid),
        [a.jid],
      );
      assert.deepEqual(
        (await store.list({ limit: 2 })).map((j) => j.jid),
        [c.jid, b.jid],
      );
      assert.deepEqual(await store.list({ since: new Date(Date.now() + 60_000) }), []);
      assert.equal((await store.list({ since: new Date(Date.parse(a.createdAt)) })).length, 3);
      assert.deepEqual(await store.list({ verb: 'apply', status: 'running' }), []);
      await rejectsWith(store.list({ limit: 0 }), 'BAD_INPUT');
    });
  });

  describe('host results', () => {
    it('upserts per host and shows results to another instance and another process while running', async () => {
      const other = await another();
      const j = await store.create(job({ status: 'running', worker: 'cli' }));
      await store.putHostResult(j.jid, 'web1', 'running', { states: [] });
      let seen = await other.get(j.jid);
      assert.equal(seen!.status, 'running');
      assert.deepEqual(seen!.hosts.web1!.result, { states: [] });

      const result = {
        states: [{ id: 'pkg', result: true, changed: true, diff: '+ a\n- b' }],
        n: 1.5,
        ok: null,
      };
      await store.putHostResult(j.jid, 'web1', 'done', result);
      await store.putHostResult(j.jid, 'web2', 'failed', 'connection refused');
      seen = await other.get(j.jid);
      assert.deepEqual(Object.keys(seen!.hosts).sort(), ['web1', 'web2']);
      assert.equal(seen!.hosts.web1!.status, 'done');
      assert.deepEqual(seen!.hosts.web1!.result, result);
      assert.equal(seen!.hosts.web2!.result, 'connection refused');
      assert.ok(Date.parse(seen!.hosts.web1!.updatedAt) > 0);

      const fromChild = (await child('get', spec, j.jid)) as JobRecord;
      assert.equal(fromChild.status, 'running');
      assert.deepEqual(fromChild.hosts.web1!.result, result);
    });

    it('refuses a result for a job that does not exist', async () => {
      await rejectsWith(store.putHostResult('20000101000000000000', 'web1', 'ok', {}), 'JOB_STORE_ERROR');
    });

    it('masks secrets registered in the redactor in everything stored', async () => {
      const secret = `pw-${process.pid}-${Math.random().toString(36).slice(2)}`;
      redactor.add(secret);
      const other = await another();
      const j = await store.create(
        job({ args: { password: secret, note: `x${secret}y` }, status: 'running', worker: 'cli' }),
      );
      await store.putHostResult(j.jid, 'db1', 'ok', {
        cmd: `psql -c "ALTER ROLE r PASSWORD '${secret}'"`,
        list: [secret],
      });
      await store.finish(j.jid, 'succeeded', 0, { message: `done with ${secret}` });
      const seen = (await other.get(j.jid))!;
      const text = JSON.stringify(seen);
      assert.ok(!text.includes(secret), text);
      assert.deepEqual(seen.args, { password: MASK, note: `x${MASK}y` });
      assert.deepEqual(seen.hosts.db1!.result, {
        cmd: `psql -c "ALTER ROLE r PASSWORD '${MASK}'"`,
        list: [MASK],
      });
      assert.deepEqual(seen.summary, { message: `done with ${MASK}` });
    });
  });

  describe('claiming', () => {
    it('claims the oldest queued job first and returns null when none is left', async () => {
      const a = await store.create(job());
      const b = await store.create(job());
      await store.create(job({ status: 'running', worker: 'cli' }));
      const first = await store.claimNext('w1', 10_000);
      assert.equal(first!.jid, a.jid);
      assert.equal(first!.status, 'running');
      assert.equal(first!.worker, 'w1');
      assert.ok(first!.startedAt);
      assert.ok(Date.parse(first!.leaseUntil!) > Date.now());
      assert.equal((await store.claimNext('w1', 10_000))!.jid, b.jid);
      assert.equal(await store.claimNext('w1', 10_000), null);
    });

    it('never gives the same job to two concurrent claimers (two instances)', async () => {
      const n = 40;
      const made = new Set<string>();
      for (let i = 0; i < n; i++) made.add((await store.create(job({ args: { i } }))).jid);
      const other = await another();
      const claimAll = async (s: JobStore, worker: string): Promise<string[]> => {
        const got: string[] = [];
        for (let i = 0; i < n + 5; i++) {
          const c = await s.claimNext(worker, 60_000);
          if (!c) break;
          assert.equal(c.worker, worker);
          got.push(c.jid);
        }
        return got;
      };
      const [x, y] = await Promise.all([claimAll(store, 'wa'), claimAll(other, 'wb')]);
      const all = [...x, ...y];
      assert.equal(new Set(all).size, all.length, 'a job was claimed twice');
      assert.deepEqual(new Set(all), made);
    });

    it('never gives the same job to two claimer processes', async () => {
      const n = 200;
      const made = new Set<string>();
      for (let i = 0; i < n; i++) made.add((await store.create(job({ args: { i } }))).jid);
      const [x, y] = (await childrenAtOnce([
        ['claim', spec, 'pa'],
        ['claim', spec, 'pb'],
      ])) as string[][];
      const all = [...x!, ...y!];
      assert.equal(new Set(all).size, all.length, 'a job was claimed twice');
      assert.deepEqual(new Set(all), made);
      assert.ok(x!.length > 0 && y!.length > 0, `both processes claimed (${x!.length}/${y!.length})`);
      const workers = new Set((await store.list({ limit: n })).map((j) => j.worker));
      assert.equal(workers.size, 2);
      assert.ok([...workers].every((w) => w === 'pa' || w === 'pb'));
    });

    it('heartbeat extends the lease only for the worker that holds the job', async () => {
      const j = await store.create(job());
      const c = (await store.claimNext('w1', 1000))!;
      assert.equal(await store.heartbeat(j.jid, 'w1', 60_000), true);
      const after = (await store.get(j.jid))!;
      assert.ok(Date.parse(after.leaseUntil!) > Date.parse(c.leaseUntil!));
      assert.equal(await store.heartbeat(j.jid, 'w2', 60_000), false);
      await store.finish(j.jid, 'succeeded', 0, { hosts: 1 });
      assert.equal(await store.heartbeat(j.jid, 'w1', 60_000), false);
      const done = (await store.get(j.jid))!;
      assert.equal(done.status, 'succeeded');
      assert.equal(done.exitCode, 0);
      assert.deepEqual(done.summary, { hosts: 1 });
      assert.ok(done.finishedAt);
      assert.equal(done.leaseUntil, undefined);
    });

    it('finish refuses a non-final status and an unknown job', async () => {
      const j = await store.create(job());
      await rejectsWith(store.finish(j.jid, 'running', 0), 'BAD_INPUT');
      await rejectsWith(store.finish('20000101000000000000', 'failed', 1), 'JOB_STORE_ERROR');
    });
  });

  describe('leases', () => {
    it('an expired lease makes the job interrupted and releases its locks', async () => {
      const dead = await store.create(job());
      await store.claimNext('dead-worker', 60_000);
      assert.deepEqual(await store.lockHosts(dead.jid, ['db1', 'db2'], 60_000), { ok: true });
      const live = await store.create(job({ status: 'running', worker: 'cli', leaseMs: 600_000 }));
      assert.equal((await store.lockHosts(live.jid, ['db2'], 60_000)).ok, false);

      assert.deepEqual(await store.reapExpired(new Date(Date.now() + 30_000)), []);
      const reaped = await store.reapExpired(new Date(Date.now() + 120_000));
      assert.deepEqual(reaped, [dead.jid]);
      const d = (await store.get(dead.jid))!;
      assert.equal(d.status, 'interrupted');
      assert.ok(d.finishedAt);
      assert.equal((await store.get(live.jid))!.status, 'running');
      assert.equal(await store.heartbeat(dead.jid, 'dead-worker', 60_000), false);
      assert.deepEqual(await store.lockHosts(live.jid, ['db1', 'db2'], 60_000), { ok: true });
    });

    it('markInterrupted ends a running job of that worker and frees its locks, and nothing else', async () => {
      const j = await store.create(job());
      await store.claimNext('host:123', 600_000);
      assert.deepEqual(await store.lockHosts(j.jid, ['db1'], 600_000), { ok: true });
      assert.equal(await store.markInterrupted(j.jid, 'host:999', 5, { error: 'x' }), false, 'other worker');
      assert.equal((await store.get(j.jid))!.status, 'running');
      assert.equal(await store.markInterrupted(j.jid, 'host:123', 5, { error: 'gone' }), true);
      const d = (await store.get(j.jid))!;
      assert.equal(d.status, 'interrupted');
      assert.equal(d.exitCode, 5);
      assert.deepEqual(d.summary, { error: 'gone' });
      assert.equal(d.leaseUntil, undefined);
      const next = await store.create(job({ status: 'running', worker: 'cli' }));
      assert.deepEqual(await store.lockHosts(next.jid, ['db1'], 60_000), { ok: true });
      assert.equal(await store.markInterrupted(j.jid, 'host:123', 5, {}), false, 'already ended');
      await store.finish(next.jid, 'succeeded', 0);
      assert.equal(
        await store.markInterrupted(next.jid, 'cli', 5, {}),
        false,
        'a finished job stays finished',
      );
      assert.equal((await store.get(next.jid))!.status, 'succeeded');
    });

    it('a job that ends leaves no host record running: finish, markInterrupted and reapExpired', async () => {
      const progress = { progress: { phase: 'applying', line: '12%', at: new Date().toISOString() } };
      const statuses = async (jid: string) =>
        Object.fromEntries(Object.values((await store.get(jid))!.hosts).map((h) => [h.host, h.status]));
      const ends: [string, (jid: string) => Promise<unknown>][] = [
        ['finish', (jid) => store.finish(jid, 'interrupted', 130)],
        ['markInterrupted', (jid) => store.markInterrupted(jid, 'w:1', 5, { error: 'gone' })],
        ['reapExpired', () => store.reapExpired(new Date(Date.now() + 120_000))],
      ];
      for (const [how, end] of ends) {
        const j = await store.create(job({ status: 'running', worker: 'w:1', leaseMs: 60_000 }));
        await store.putHostResult(j.jid, 'db1', 'running', progress);
        await store.putHostResult(j.jid, 'db2', 'changed', { states: [] });
        await end(j.jid);
        assert.deepEqual(await statuses(j.jid), { db1: 'interrupted', db2: 'changed' }, how);
        assert.deepEqual((await store.get(j.jid))!.hosts.db1!.result, progress, `${how}: last progress kept`);
        // Progress arriving after the end (a worker that lost its lease) does not bring `running` back...
        await store.putHostResult(j.jid, 'db1', 'running', progress);
        await store.putHostResult(j.jid, 'db3', 'running', progress);
        assert.deepEqual(await statuses(j.jid), { db1: 'interrupted', db2: 'changed' }, how);
        // ...while a real result still lands (a journal written late).
        await store.putHostResult(j.jid, 'db1', 'changed', { states: [] });
        assert.equal((await statuses(j.jid)).db1, 'changed', how);
      }
      const live = await store.create(job({ status: 'running', worker: 'w:2' }));
      await store.putHostResult(live.jid, 'db1', 'running', progress);
      assert.equal((await statuses(live.jid)).db1, 'running', 'a live job keeps its progress');
    });

    it('claimNext and lockHosts reap expired leases themselves (real time)', async () => {
      const dead = await store.create(job());
      await store.claimNext('dead-worker', 200);
      assert.deepEqual(await store.lockHosts(dead.jid, ['db1'], 200), { ok: true });
      const next = await store.create(job({ status: 'running', worker: 'cli' }));
      await sleep(400);
      assert.deepEqual(await store.lockHosts(next.jid, ['db1'], 60_000), { ok: true });
      assert.equal((await store.get(dead.jid))!.status, 'interrupted');

      const dead2 = await store.create(job());
      await store.claimNext('dead-worker', 200);
      await sleep(400);
      assert.equal(await store.claimNext('w', 1000), null);
      assert.equal((await store.get(dead2.jid))!.status, 'interrupted');
    });

    it('heartbeat keeps host locks alive with the job', async () => {
      const a = await store.create(job());
      await store.claimNext('w1', 400);
      assert.deepEqual(await store.lockHosts(a.jid, ['h1'], 400), { ok: true });
      const b = await store.create(job({ status: 'running', worker: 'cli' }));
      // Four beats span more than the lease: only the heartbeats keep the lock.
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        assert.equal(await store.heartbeat(a.jid, 'w1', 400), true);
      }
      assert.deepEqual(await store.lockHosts(b.jid, ['h1'], 1000), { ok: false, host: 'h1', heldBy: a.jid });
    });
  });

  describe('host locks', () => {
    it('locks all hosts or none and names the holder', async () => {
      const a = await store.create(job({ status: 'running', worker: 'w' }));
      const b = await store.create(job({ status: 'running', worker: 'w' }));
      const c = await store.create(job({ status: 'running', worker: 'w' }));
      assert.deepEqual(await store.lockHosts(a.jid, ['h1', 'h2'], 60_000), { ok: true });
      assert.deepEqual(
        await store.lockHosts(a.jid, ['h2', 'h1'], 60_000),
        { ok: true },
        'relocking is allowed',
      );
      assert.deepEqual(await store.lockHosts(b.jid, ['h3', 'h2', 'h4'], 60_000), {
        ok: false,
        host: 'h2',
        heldBy: a.jid,
      });
      // Nothing of b's attempt stuck: h3 and h4 are free for c.
      assert.deepEqual(await store.lockHosts(c.jid, ['h3', 'h4'], 60_000), { ok: true });
      const other = await another();
      assert.deepEqual(await other.lockHosts(b.jid, ['h4'], 60_000), {
        ok: false,
        host: 'h4',
        heldBy: c.jid,
      });

      await store.unlockHosts(c.jid);
      assert.deepEqual(await other.lockHosts(b.jid, ['h3', 'h4'], 60_000), { ok: true });
      await store.finish(a.jid, 'succeeded', 0);
      assert.deepEqual(
        await other.lockHosts(c.jid, ['h1', 'h2'], 60_000),
        { ok: true },
        'finish releases locks',
      );
    });

    it('gives a contested host to exactly one of two concurrent lockers', async () => {
      const other = await another();
      for (let round = 0; round < 10; round++) {
        const a = await store.create(job({ status: 'running', worker: 'w' }));
        const b = await store.create(job({ status: 'running', worker: 'w' }));
        const hosts = [`x${round}`, `y${round}`, `z${round}`];
        const [ra, rb] = await Promise.all([
          store.lockHosts(a.jid, hosts, 60_000),
          other.lockHosts(b.jid, [...hosts].reverse(), 60_000),
        ]);
        assert.equal([ra.ok, rb.ok].filter(Boolean).length, 1, JSON.stringify([ra, rb]));
        const loser = ra.ok ? rb : ra;
        assert.equal(loser.ok ? '' : loser.heldBy, ra.ok ? a.jid : b.jid);
      }
    });

    it('refuses locks for a finished or unknown job', async () => {
      const a = await store.create(job());
      await store.finish(a.jid, 'failed', 1);
      await rejectsWith(store.lockHosts(a.jid, ['h1'], 1000), 'JOB_STORE_ERROR');
      await rejectsWith(store.lockHosts('20000101000000000000', ['h1'], 1000), 'JOB_STORE_ERROR');
    });
  });

  describe('cancel', () => {
    it('cancels a queued job at once and flags a running one for its worker', async () => {
      const q = await store.create(job());
      const r = await store.create(job());
      await store.claimNext('w1', 60_000); // takes q (oldest)
      assert.equal(await store.isCancelRequested(r.jid), false);

      const rc = (await store.requestCancel(r.jid))!;
      assert.equal(rc.status, 'cancelled');
      assert.ok(rc.finishedAt);
      assert.equal(await store.isCancelRequested(r.jid), true);
      assert.equal(await store.claimNext('w2', 60_000), null, 'a cancelled job is never claimed');

      assert.deepEqual(await store.lockHosts(q.jid, ['h1'], 60_000), { ok: true });
      const qc = (await store.requestCancel(q.jid))!;
      assert.equal(qc.status, 'running');
      assert.equal(qc.cancelRequested, true);
      const other = await another();
      assert.equal(await other.isCancelRequested(q.jid), true);
      await store.finish(q.jid, 'cancelled', 130);
      const done = (await store.requestCancel(q.jid))!;
      assert.equal(done.status, 'cancelled');
      assert.equal(done.exitCode, 130);

      assert.equal(await store.requestCancel('20000101000000000000'), null);
      assert.equal(await store.isCancelRequested('20000101000000000000'), false);
    });
  });

  describe('prune', () => {
    it('deletes finished jobs older than the cut, with their results, and keeps live ones', async () => {
      const old = await store.create(job());
      await store.putHostResult(old.jid, 'h1', 'ok', { a: 1 });
      await store.finish(old.jid, 'succeeded', 0);
      const queued = await store.create(job());
      const running = await store.create(job({ status: 'running', worker: 'w' }));
      await sleep(20);
      const cut = new Date();
      await sleep(20);
      const recent = await store.create(job());
      await store.finish(recent.jid, 'failed', 1);

      assert.equal(await store.prune(new Date(cut.getTime() - 3_600_000)), 0);
      assert.equal(await store.prune(cut), 1);
      assert.equal(await store.get(old.jid), null);
      assert.deepEqual(await store.list({ host: 'h1' }), []);
      assert.deepEqual(
        (await store.list({})).map((j) => j.jid),
        [recent.jid, running.jid, queued.jid],
      );
      assert.equal(await store.prune(new Date(Date.now() + 1000)), 1, 'only the finished one');
    });
  });

  describe('job ids', () => {
    it('are unique and well-formed under a burst from two instances', async () => {
      const other = await another();
      const made = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (i % 2 ? store : other).create(job({ args: { i } }))),
      );
      const ids = made.map((j) => j.jid);
      assert.ok(ids.every(isJid));
      assert.equal(new Set(ids).size, ids.length);
    });

    it('retry with the next microsecond when another process took the id', async () => {
      const frozen = 1_763_000_000_000_000n;
      const a = await another({ jids: new JidGenerator(() => frozen) });
      const b = await another({ jids: new JidGenerator(() => frozen) });
      const made: JobRecord[] = [];
      for (let i = 0; i < 20; i++) {
        made.push(await a.create(job()));
        made.push(await b.create(job()));
      }
      const ids = made.map((j) => j.jid).sort();
      assert.equal(new Set(ids).size, 40);
      assert.ok(ids.every(isJid));
      assert.equal(ids[0], '20251113021320000000');
      assert.equal(ids[39], '20251113021320000039', 'each conflict moved one microsecond on');
    });

    it('are unique across two creating processes', async () => {
      const [x, y] = (await childrenAtOnce([
        ['create', spec, '80'],
        ['create', spec, '80'],
      ])) as string[][];
      const all = [...x!, ...y!];
      assert.ok(all.every(isJid));
      assert.equal(new Set(all).size, 160);
      assert.equal((await store.list({ limit: 1000 })).length, 160);
    });
  });

  describe('opening', () => {
    it('fails with JOB_STORE_ERROR when the store cannot be opened', async () => {
      const bad = harness().badSpecs();
      assert.ok(bad.length > 0);
      for (const s of bad) {
        const err = await rejectsWith(harness().open(s), 'JOB_STORE_ERROR');
        assert.match(err.message, /job store/);
        assert.doesNotMatch(err.message, /hunter2/, 'passwords never appear in messages');
      }
    });

    it('a closed store refuses further use', async () => {
      const s = await another();
      await s.close();
      await rejectsWith(s.get('20000101000000000000'), 'JOB_STORE_ERROR');
    });
  });
}
