// Jobs end to end through the real CLI (the built dist/, rebuilt here when stale): --async returning at once, the detached
// worker, jobs wait/lookup/list/cancel/prune, host locks between a worker and a synchronous apply (exit 6), a worker
// killed with SIGKILL mid-job (interrupted at the next read, its pid being gone; lock freed), and two `orch worker --drain`
// processes on a temp PostgreSQL store never running the same job. Hosts: a throwaway loopback sshd, and a
// "black hole" port that accepts TCP but never speaks SSH (a host a job hangs on).
import { strict as assert } from 'node:assert';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJobStoreAt } from '../../src/jobs/open.js';
import type { JobRecord } from '../../src/jobs/store.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'dist/src/cli/main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run the built CLI against a project; never throws on a non-zero exit. */
function orch(root: string, ...args: string[]): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, '--root', root, ...args],
      { timeout: 120_000, env: cliEnv() },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.ORCH_JOB_STORE;
  delete env.ORCH_ROOT;
  delete env.ORCH_STATE_DIR;
  return env;
}

/** Build dist/ when any source file is newer than its compiled form (tsc emits even with others' type errors). */
function ensureBuilt(): void {
  const stale = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return stale(p);
      if (!e.name.endsWith('.ts')) return false;
      const out = path.join(repo, 'dist', path.relative(repo, p)).replace(/\.ts$/, '.js');
      return !existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs;
    });
  if (!stale(path.join(repo, 'src'))) return;
  try {
    execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', repo], {
      cwd: repo,
      stdio: 'ignore',
      timeout: 300_000,
    });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; the CLI below is what is tested.
  }
}

/** A port that accepts TCP connections and never answers: an SSH connect there hangs until its timeout. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function writeProject(root: string, sshd: LocalSshd, holePort: number, out: string, orchYaml: string): void {
  mkdirSync(path.join(root, 'inventory'), { recursive: true });
  mkdirSync(path.join(root, 'states'), { recursive: true });
  writeFileSync(
    path.join(root, 'inventory', 'hosts.yaml'),
    [
      'hosts:',
      '  here.example.com:',
      `    address: ${sshd.address}`,
      `    port: ${sshd.port}`,
      `    user: ${sshd.user}`,
      `    identity: ${sshd.clientKey}`,
      '  hole.example.com:',
      '    address: 127.0.0.1',
      `    port: ${holePort}`,
      `    identity: ${sshd.clientKey}`,
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
  writeFileSync(
    path.join(root, 'states', 'site.yaml'),
    `motd:\n  file.managed:\n    - name: ${out}/motd\n    - contents: "hello from a job\\n"\n    - makedirs: true\n`,
  );
  writeFileSync(path.join(root, 'orch.yaml'), orchYaml);
}

function startWorker(root: string): { child: ChildProcess; done: Promise<number | null>; log: () => string } {
  const child = spawn(process.execPath, [cli, '--root', root, 'worker', '--drain'], {
    env: cliEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, done, log: () => log };
}

async function lookup(root: string, jid: string): Promise<JobRecord> {
  const r = await orch(root, '-o', 'json', 'jobs', 'lookup', jid);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JobRecord;
}

/** Poll a job until pred holds (bounded). */
async function until(
  root: string,
  jid: string,
  pred: (j: JobRecord) => boolean,
  ms = 30_000,
): Promise<JobRecord> {
  const deadline = Date.now() + ms;
  for (;;) {
    const j = await lookup(root, jid);
    if (pred(j)) return j;
    if (Date.now() > deadline) throw new Error(`job ${jid} still ${j.status} after ${ms} ms`);
    await sleep(200);
  }
}

describe('jobs through the CLI', function () {
  this.timeout(240_000);
  let sshd: LocalSshd | undefined;
  let hole: Awaited<ReturnType<typeof blackHole>> | undefined;
  let tmp = '';
  let root = '';
  let out = '';
  const baseYaml = 'accept_new_hostkeys: true\nconnect_timeout: 60\njobs:\n  lease: 2s\n';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    ensureBuilt();
    sshd = await startLocalSshd();
    hole = await blackHole();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-jobs-cli-'));
    root = path.join(tmp, 'project');
    out = path.join(tmp, 'host-files');
    writeProject(root, sshd, hole.port, out, baseYaml);
  });
  after(async () => {
    await hole?.close();
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('records a synchronous orch run, with unchanged output and exit code', async () => {
    const r = await orch(root, 'run', 'here.example.com', '--', 'echo', 'sync run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^=== here\.example\.com\nsync run\n--- exit 0 \(.*\)\n1 host\(s\): 1 exit 0, 0 non-zero, 0 failed to run/,
    );
    const list = await orch(root, 'jobs', 'list', '--verb', 'run', '--limit', '1');
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /\n\d{20} +run +here\.example\.com +root +\S+ \S+ +\S+ +succeeded +1 host\(s\): 1 ok\n$/,
    );
  });

  it('--async prints only the jid and returns while the job still runs; the spawned worker runs it; wait and lookup', async () => {
    let jid = '';
    for (let i = 0; i < 3; i++) {
      const r = await orch(
        root,
        'run',
        'here.example.com',
        '--async',
        '--',
        'sh',
        '-c',
        `sleep 2; echo async $0`,
        `n${i}`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\d{20}\n$/, 'stdout is the jid alone');
      jid = r.stdout.trim();
      assert.match(r.stderr, new RegExp(`^job ${jid} queued .*; orch jobs lookup ${jid}\\n$`));
      // The command came back before the work was done: the job is still queued or running.
      assert.match((await lookup(root, jid)).status, /^(queued|running)$/);
    }

    const w = await orch(root, 'jobs', 'wait', jid, '--timeout', '60');
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, `job ${jid} succeeded (exit 0)\n`);
    const l = await orch(root, 'jobs', 'lookup', jid);
    assert.equal(l.code, 0, l.stderr);
    assert.match(
      l.stdout,
      new RegExp(
        `^job ${jid}: run here\\.example\\.com -- sh -c sleep 2; echo async \\$0 n2 by \\S+\\n {2}succeeded \\(exit 0\\) on \\S+:\\d+`,
      ),
    );
    assert.match(
      l.stdout,
      /\n=== here\.example\.com\nasync n2\n--- exit 0 \(\d+\.\d\ds\)\n1 host\(s\): 1 exit 0/,
    );
  });

  it('apply --async: the worker converges the host; lookup shows the per-state result like a sync apply', async () => {
    const q = await orch(root, 'apply', 'here.example.com', '--async');
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    const w = await orch(root, 'jobs', 'wait', jid, '--timeout', '60');
    assert.equal(w.code, 0, `${w.stdout}${w.stderr}`);
    assert.equal(readFileSync(path.join(out, 'motd'), 'utf8'), 'hello from a job\n');
    const l = await orch(root, 'jobs', 'lookup', jid);
    assert.match(l.stdout, /\nhere\.example\.com:\n {2}CHANGED +file\.managed motd \(.*\/motd\)\n/);
    assert.match(l.stdout, /Summary \(apply\): 1 host\(s\), 0 clean, 1 changed\n$/);
    const job = await lookup(root, jid);
    assert.equal(job.hosts['here.example.com']?.status, 'changed');
    assert.deepEqual(job.args.hosts, ['here.example.com']);

    // The same apply again, synchronously: same format, now clean, and recorded too.
    const again = await orch(root, 'apply', 'here.example.com', '--no-progress');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Summary \(apply\): 1 host\(s\), 1 clean\n$/);
    const list = await orch(
      root,
      '-o',
      'json',
      'jobs',
      'list',
      '--verb',
      'apply',
      '--host',
      'here.example.com',
    );
    const jobs = JSON.parse(list.stdout) as (JobRecord & { hostStatus: Record<string, string> })[];
    assert.equal(jobs.length, 2);
    assert.deepEqual(
      jobs.map((j) => [j.status, j.hostStatus['here.example.com']]),
      [
        ['succeeded', 'ok'],
        ['succeeded', 'changed'],
      ],
    );
  });

  it('a worker holding a host lock makes a sync apply fail with exit 6; killed -9, its job is reaped and the lock freed', async () => {
    writeFileSync(path.join(root, 'orch.yaml'), `${baseYaml}  spawn_worker: false\n`);
    const q = await orch(root, 'apply', 'hole.example.com', '--async');
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    assert.match(q.stderr, /waiting for an orch worker/);
    const worker = startWorker(root);
    try {
      const running = await until(root, jid, (j) => j.status === 'running');
      assert.equal(running.worker, `${os.hostname()}:${worker.child.pid}`);

      const sync = await orch(root, 'apply', 'hole.example.com', '--no-progress');
      assert.equal(sync.code, 6, sync.stderr);
      assert.match(
        sync.stderr,
        new RegExp(`host hole\\.example\\.com is locked by job ${jid} \\(apply hole\\.example\\.com by `),
      );
      const waited = await orch(
        root,
        'apply',
        'hole.example.com',
        '--no-progress',
        '--wait',
        '--wait-timeout',
        '1',
      );
      assert.equal(waited.code, 6, waited.stderr);
      assert.match(waited.stderr, /still locked after waiting/);
      assert.ok(waited.ms >= 1000);
      const list = await orch(root, 'jobs', 'list', '--status', 'running');
      assert.match(list.stdout, new RegExp(`${jid} +apply +hole\\.example\\.com .* running +0/1 hosts done`));

      process.kill(worker.child.pid!, 'SIGKILL');
      assert.equal(await worker.done, null);
      const killedAt = Date.now();
      const w = await orch(root, 'jobs', 'wait', jid, '--timeout', '30');
      assert.equal(w.code, 5, `${w.stdout}${w.stderr}`);
      // Its pid is gone on this machine: interrupted at the first read, not when the lease runs out.
      assert.equal(w.stdout, `job ${jid} interrupted (exit 5)\n`);
      assert.match(String((await lookup(root, jid)).summary?.error), /worker .* is gone/);
      assert.ok(Date.now() - killedAt < 10_000);

      const store = await openJobStoreAt(undefined, path.join(root, '.orch'));
      try {
        const probe = await store.create({
          verb: 'apply',
          target: 'hole',
          args: {},
          user: 't',
          status: 'running',
          worker: 't:1',
        });
        assert.deepEqual(await store.lockHosts(probe.jid, ['hole.example.com'], 60_000), { ok: true });
        await store.finish(probe.jid, 'succeeded', 0);
      } finally {
        await store.close();
      }
    } finally {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
  });

  it('SIGTERM makes a worker wind its job down, record it interrupted and exit 143', async () => {
    const q = await orch(root, 'apply', 'hole.example.com', '--async');
    const jid = q.stdout.trim();
    const worker = startWorker(root);
    try {
      await until(root, jid, (j) => j.status === 'running');
      worker.child.kill('SIGTERM');
      assert.equal(await worker.done, 143, worker.log());
      const job = await lookup(root, jid);
      assert.equal(job.status, 'interrupted');
      assert.equal(job.exitCode, 143);
      assert.equal(job.summary?.interrupted, 'SIGTERM');
      assert.equal(job.hosts['hole.example.com']?.status, 'not_run');
    } finally {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
  });

  it('cancels a queued job; rejects malformed and unknown ids with exit 4; prunes', async () => {
    const q = await orch(root, 'run', 'here.example.com', '--async', '--', 'true');
    const jid = q.stdout.trim();
    const c = await orch(root, 'jobs', 'cancel', jid);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, `job ${jid} cancelled (it had not started)\n`);
    assert.equal((await lookup(root, jid)).status, 'cancelled');

    const bad = await orch(root, 'jobs', 'lookup', 'yesterday');
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /not a job id: "yesterday"/);
    const unknown = await orch(root, 'jobs', 'wait', '20200101000000000000');
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /no job 20200101000000000000/);
    const badStatus = await orch(root, 'jobs', 'list', '--status', 'done');
    assert.equal(badStatus.code, 4);

    const before = JSON.parse((await orch(root, '-o', 'json', 'jobs', 'list')).stdout) as JobRecord[];
    const p = await orch(root, 'jobs', 'prune', '--older-than', '1ms');
    assert.equal(p.code, 0, p.stderr);
    const pruned = Number(/^pruned (\d+) /.exec(p.stdout)?.[1]);
    assert.equal(pruned, before.filter((j) => j.status !== 'queued' && j.status !== 'running').length);
    assert.equal(
      (JSON.parse((await orch(root, '-o', 'json', 'jobs', 'list')).stdout) as JobRecord[]).length,
      before.length - pruned,
    );
  });

  describe('on a PostgreSQL store', () => {
    let server: TempPostgres | undefined;
    let pgRoot = '';

    before(async function () {
      if (!existsSync(path.join(PG_BIN, 'initdb'))) this.skip();
      server = await startTempPostgres();
      const url = await server.createDatabase('orch_jobs');
      pgRoot = path.join(tmp, 'pg-project');
      writeProject(pgRoot, sshd!, hole!.port, out, `${baseYaml}  spawn_worker: false\n  store: ${url}\n`);
    });
    after(async () => {
      await server?.stop();
    });

    it('two orch worker --drain processes never run the same job', async () => {
      const marks = path.join(tmp, 'ran.log');
      // Learn the host key once, so the two workers do not race to record it.
      const first = await orch(pgRoot, 'run', 'here.example.com', '--', 'true');
      assert.equal(first.code, 0, first.stderr);
      const jids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await orch(
          pgRoot,
          'run',
          'here.example.com',
          '--async',
          '--',
          'sh',
          '-c',
          'echo "$1" >> "$2"; sleep 1',
          'sh',
          `job${i}`,
          marks,
        );
        assert.equal(r.code, 0, r.stderr);
        jids.push(r.stdout.trim());
      }
      const workers = [startWorker(pgRoot), startWorker(pgRoot)];
      const codes = await Promise.all(workers.map((w) => w.done));
      assert.deepEqual(codes, [0, 0], workers.map((w) => w.log()).join('\n'));

      const lines = readFileSync(marks, 'utf8').trim().split('\n').sort();
      assert.deepEqual(lines, ['job0', 'job1', 'job2', 'job3', 'job4', 'job5'], 'each job ran exactly once');
      const names = workers.map((w) => `${os.hostname()}:${w.child.pid}`);
      const ranBy = new Map<string, number>();
      for (const jid of jids) {
        const job = await lookup(pgRoot, jid);
        assert.equal(job.status, 'succeeded');
        assert.ok(names.includes(job.worker!), `${jid} ran by ${job.worker}`);
        ranBy.set(job.worker!, (ranBy.get(job.worker!) ?? 0) + 1);
      }
      assert.equal(ranBy.size, 2, `both workers took jobs: ${JSON.stringify([...ranBy])}`);
      for (const w of workers) assert.match(w.log(), /done: \d job\(s\) run/);
    });
  });
});
