// One sharded job (`orch apply --async --shard-size N`, PostgreSQL job store in a temp server) run by two and by
// three real `orch worker` processes over hosts that are names for one loopback sshd. Every host's states append a
// line to that host's own log on the host, so a host run twice shows two lines. Checked: each host run exactly
// once, every worker took shards, one job with one result, no lock left; and a worker killed with SIGKILL in the
// middle of a shard: after its lease another worker finishes that shard, running only the hosts without a result.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { JobRecord } from '../../src/jobs/store.js';
import type { LocalSshd } from '../helpers/local-sshd.js';
import { startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import { loopbackSuite, lookup, orch, start, until, writeProject, type Running } from './harness.js';

const HOSTS = Array.from({ length: 12 }, (_, i) => `h${String(i + 1).padStart(2, '0')}.example.com`);

describe('chaos: one sharded job over several orch workers (PostgreSQL store)', function () {
  this.timeout(240_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  let server: TempPostgres | undefined;
  let n = 0;
  const workers: Running[] = [];
  loopbackSuite(
    'orch-chaos-shards-',
    (s, t) => {
      sshd = s;
      tmp = t;
    },
    { settleMs: 500 },
  );
  before(async () => {
    server = await startTempPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    // Only the workers this suite started, by their own handles.
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await w.done;
    }
  });

  /** A project on its own database: slow then count on every host, each appending to the host's own files. */
  async function project(lease: string): Promise<{ root: string; out: string; url: string }> {
    const id = ++n;
    const root = path.join(tmp, `p${id}`);
    const out = path.join(tmp, `out${id}`);
    mkdirSync(path.join(out, 'started'), { recursive: true });
    mkdirSync(path.join(out, 'runs'), { recursive: true });
    const url = await server!.createDatabase(`sharded_${id}`);
    const states = {
      count:
        `slow:\n  cmd.run:\n    - name: ${JSON.stringify(`echo s >> ${out}/started/{{ host }}; sleep 1.5`)}\n` +
        `count:\n  cmd.run:\n    - name: ${JSON.stringify(`echo r >> ${out}/runs/{{ host }}`)}\n` +
        `    - require:\n      - cmd: slow\n`,
    };
    const extra = Object.fromEntries(HOSTS.map((h) => [h, { address: sshd!.address, port: sshd!.port }]));
    writeProject(
      root,
      sshd!,
      states,
      { 'h*': ['count'] },
      `jobs:\n  store: ${url}\n  lease: ${lease}\n  spawn_worker: false\n`,
      extra,
    );
    // Trusted before the workers start, so no two of them write known_hosts at once (all hosts share one address).
    const trust = await orch(root, ['hostkeys', 'trust', HOSTS[0]!]);
    assert.equal(trust.code, 0, `${trust.stdout}\n${trust.stderr}`);
    return { root, out, url };
  }

  function lines(file: string): number {
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  function startWorkers(root: string, count: number, drain: boolean): Running[] {
    const made = Array.from({ length: count }, () =>
      start(root, ['worker', ...(drain ? ['--drain'] : [])], {}, 200_000),
    );
    workers.push(...made);
    return made;
  }

  async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /** Wait for the moment a worker is in the middle of a shard: a claimed shard with a host done and another in
   * its slow step, not counted yet. */
  async function midShard(
    url: string,
    out: string,
    jid: string,
  ): Promise<{ worker: string; shard: number; done: string[]; inFlight: string }> {
    type Row = { shard: number; claimed_by: string; host: string; status: string | null };
    let found: { worker: string; shard: number; done: string[]; inFlight: string } | undefined;
    await until(
      'a worker in the middle of a shard',
      async () => {
        const rows = await query<Row>(
          url,
          `SELECT s.shard, s.claimed_by, h.host, r.status FROM orch.job_shards s
           JOIN orch.shard_hosts h ON h.jid = s.jid AND h.shard = s.shard
           LEFT JOIN orch.host_results r ON r.jid = s.jid AND r.host = h.host
           WHERE s.jid = $1 AND s.state = 'claimed' ORDER BY s.shard, h.host`,
          [jid],
        );
        for (const shard of new Set(rows.map((r) => r.shard))) {
          const mine = rows.filter((r) => r.shard === shard);
          const done = mine.filter((r) => r.status === 'changed').map((r) => r.host);
          const inFlight = mine.find(
            (r) =>
              r.status !== 'changed' &&
              lines(path.join(out, 'started', r.host)) === 1 &&
              lines(path.join(out, 'runs', r.host)) === 0,
          );
          if (done.length && inFlight) {
            found = { worker: mine[0]!.claimed_by, shard, done, inFlight: inFlight.host };
            return true;
          }
        }
        return false;
      },
      60_000,
    );
    return found!;
  }

  async function queue(root: string, size: number): Promise<string> {
    const q = await orch(root, ['-j', '1', 'apply', 'h*', '--async', '--shard-size', String(size)]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(
      q.stderr,
      new RegExp(`12 host\\(s\\) in ${Math.ceil(12 / size)} shard\\(s\\) of up to ${size}`),
    );
    return q.stdout.trim();
  }

  function assertOneResult(job: JobRecord, shards: number): void {
    assert.equal(job.status, 'succeeded', JSON.stringify(job.summary));
    assert.equal(job.exitCode, 0);
    assert.deepEqual(Object.keys(job.hosts).sort(), HOSTS);
    assert.ok(Object.values(job.hosts).every((h) => h.status === 'changed'));
    assert.equal(job.summary?.hosts, 12);
    assert.equal(job.summary?.shards, shards);
    assert.equal(job.shards?.length, shards);
    assert.ok(job.shards!.every((s) => s.state === 'done' && s.exitCode === 0));
  }

  it('--shard-size is refused, nothing queued: on the SQLite store, without --async, with --batch', async () => {
    const root = path.join(tmp, 'sqlite');
    writeProject(
      root,
      sshd!,
      { count: 'x:\n  cmd.run:\n    - name: "true"\n' },
      { 'h*': ['count'] },
      'jobs:\n  spawn_worker: false\n',
      {
        [HOSTS[0]!]: { address: sshd!.address, port: sshd!.port },
      },
    );
    const cases: [string[], RegExp][] = [
      [['--async', '--shard-size', '2'], /--shard-size needs the PostgreSQL job store/],
      [['--shard-size', '2'], /--shard-size needs --async/],
      [['--async', '--shard-size', '2', '--batch', '1'], /cannot be combined/],
      [['--async', '--shard-size', '0'], /whole number of at least 1/],
    ];
    for (const [flags, why] of cases) {
      const r = await orch(root, ['apply', 'h*', ...flags]);
      assert.equal(r.code, 4, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '', 'no job id printed');
    }
    const list = await orch(root, ['-o', 'json', 'jobs', 'list']);
    assert.deepEqual(JSON.parse(list.stdout), [], 'no job was queued');
  });

  for (const count of [2, 3]) {
    it(`${count} workers: every host run exactly once, one job with one result`, async () => {
      const { root, out, url } = await project('5s');
      const jid = await queue(root, 2);
      const ws = startWorkers(root, count, true);
      const ends = await Promise.all(ws.map((w) => w.done));
      for (const e of ends) assert.equal(e.code, 0, e.stderr);
      const job = await lookup(root, jid);
      assertOneResult(job, 6);
      for (const h of HOSTS) assert.equal(lines(path.join(out, 'runs', h)), 1, `${h} run once`);
      assert.deepEqual(readdirSync(path.join(out, 'runs')).sort(), HOSTS);
      const by = new Set(job.shards!.map((s) => s.worker));
      assert.equal(by.size, count, `every worker took shards: ${[...by].join(', ')}`);
      assert.ok(job.shards!.every((s) => s.attempt === 1));
      // Each worker's log names the shards it ran; together they are every shard once.
      const logged = ends.flatMap((e) => [...e.stderr.matchAll(/shard (\d+)\/6: done/g)].map((m) => m[1]));
      assert.deepEqual(logged.sort(), ['1', '2', '3', '4', '5', '6']);
      assert.equal(
        ends.filter((e) => /: succeeded, exit 0 \(its last shard\)/.test(e.stderr)).length,
        1,
        'one worker ended the job',
      );
      assert.deepEqual(await query(url, 'SELECT host FROM orch.host_locks'), [], 'no lock left');
      const text = await orch(root, ['jobs', 'lookup', jid]);
      assert.match(text.stdout, /shards: 6 of up to 2 host\(s\): 6 done, 0 claimed, 0 queued/);
      assert.match(text.stdout, /shard 1: done by \S+:\d+, 2\/2 host\(s\) done/);
    });
  }

  it('a worker killed with SIGKILL mid-shard: another finishes its shard after the lease, no host run twice', async () => {
    const { root, out, url } = await project('4s');
    const jid = await queue(root, 4);
    const ws = startWorkers(root, 3, false);
    const victim = await midShard(url, out, jid);
    const pid = Number(/:(\d+)$/.exec(victim.worker)![1]);
    const mineToKill = ws.find((w) => w.child.pid === pid);
    assert.ok(mineToKill, `the shard's worker ${victim.worker} is one this test started`);
    mineToKill.child.kill('SIGKILL');
    const killed = await mineToKill.done;
    assert.equal(killed.code, 137);

    // The survivors finish the job; the dead worker's shard only after its lease ran out.
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '120']);
    assert.equal(w.code, 0, `${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assertOneResult(job, 3);
    const handed = job.shards![victim.shard]!;
    assert.equal(handed.attempt, 2, 'the shard was handed over once');
    assert.notEqual(handed.worker, victim.worker, 'and finished by another worker');
    for (const h of HOSTS) assert.equal(lines(path.join(out, 'runs', h)), 1, `${h} counted once`);
    for (const h of victim.done)
      assert.equal(lines(path.join(out, 'started', h)), 1, `${h} had its result: not run again`);
    assert.equal(
      lines(path.join(out, 'started', victim.inFlight)),
      2,
      'the host cut off without a result ran again',
    );
    assert.deepEqual(await query(url, 'SELECT host FROM orch.host_locks'), [], 'no lock left');
    const survivors = ws.filter((x) => x !== mineToKill);
    const logs = survivors.map((x) => x.stderr()).join('');
    assert.match(logs, new RegExp(`shard ${victim.shard + 1}/3: .*attempt 2 \\(handed over\\)`));
  });

  it('a worker stopped with SIGTERM mid-shard gives its shard back at once; another finishes it', async () => {
    // A lease far longer than the test: the shard can only move on because it was given back.
    const { root, out, url } = await project('60s');
    const jid = await queue(root, 4);
    const ws = startWorkers(root, 2, false);
    const victim = await midShard(url, out, jid);
    const pid = Number(/:(\d+)$/.exec(victim.worker)![1]);
    const stopped = ws.find((w) => w.child.pid === pid)!;
    stopped.child.kill('SIGTERM');
    const end = await stopped.done;
    assert.equal(end.code, 143, end.stderr);
    assert.match(end.stderr, new RegExp(`shard ${victim.shard + 1}/3: given back`));
    // The host in its step finished it before the worker let go: its result is kept, not run again.
    assert.equal(lines(path.join(out, 'runs', victim.inFlight)), 1);
    const [row] = await query<{ state: string; claimed_by: string | null }>(
      url,
      'SELECT state, claimed_by FROM orch.job_shards WHERE jid = $1 AND shard = $2',
      [jid, victim.shard],
    );
    assert.notEqual(row!.claimed_by, victim.worker, `no longer the stopped worker's (${row!.state})`);
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '120']);
    assert.equal(w.code, 0, `${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assertOneResult(job, 3);
    assert.equal(job.shards![victim.shard]!.attempt, 2);
    for (const h of HOSTS) assert.equal(lines(path.join(out, 'runs', h)), 1, `${h} counted once`);
    for (const h of HOSTS) assert.equal(lines(path.join(out, 'started', h)), 1, `${h} started once`);
  });

  it('a host in a running shard is locked to other applies; cancel ends the job and frees every lock', async () => {
    const { root, out, url } = await project('60s');
    const jid = await queue(root, 4);
    startWorkers(root, 1, false);
    const at = await midShard(url, out, jid);
    const sync = await orch(root, ['apply', at.inFlight, '--no-progress']);
    assert.equal(sync.code, 6, sync.stderr);
    assert.match(sync.stderr, new RegExp(`is locked by job ${jid}`));
    const c = await orch(root, ['jobs', 'cancel', jid]);
    assert.equal(c.code, 0, c.stderr);
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '120']);
    assert.match(w.stdout, new RegExp(`job ${jid} cancelled`));
    const job = await lookup(root, jid);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.shards!.every((s) => s.state === 'done'));
    assert.equal(job.shards!.filter((s) => s.attempt > 0).length, 1, 'no other shard was started');
    const ran = HOSTS.filter((h) => lines(path.join(out, 'runs', h)) > 0);
    assert.ok(
      ran.every((h) => job.shards![at.shard]!.hosts.includes(h)),
      `only the running shard ran: ${ran}`,
    );
    assert.deepEqual(await query(url, 'SELECT host FROM orch.host_locks'), [], 'no lock left');
    const again = await orch(root, ['apply', at.inFlight, '--no-progress']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  });
});
