// The job store fails in the middle of a real apply: the SQLite file made immutable (chattr +i on the database
// and its -wal), and a PostgreSQL store whose server is stopped. The hosts' work goes on, the run exits 5
// (never 0), what the hosts reported is kept in <stateDir>/journal/<jid>.jsonl (0600) and written to the store by
// the next orch that opens it; then the record is true, no lock is left and the next apply runs.
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { LocalSshd } from '../helpers/local-sshd.js';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import { openJobStoreAt } from '../../src/jobs/open.js';
import {
  cmdState,
  hostStatuses,
  lookup,
  loopbackSuite,
  orch,
  sleep,
  sqliteJobs,
  sqliteLocks,
  start,
  untilRunning,
  writeProject,
} from './harness.js';

const run = promisify(execFile);
// The database and its write-ahead log. Not -shm: SQLite maps it into memory, and a mapped file that cannot grow
// kills the process with SIGBUS when the database is closed (the journal is written before that, all the same).
const SQLITE_FILES = ['jobs.sqlite', 'jobs.sqlite-wal'];

function chattr(flag: '+i' | '-i', dir: string): void {
  for (const f of SQLITE_FILES)
    if (existsSync(path.join(dir, f))) execFileSync('chattr', [flag, path.join(dir, f)]);
}

function canChattr(): boolean {
  const probe = mkdtempSync(path.join(os.tmpdir(), 'orch-chattr-'));
  try {
    execFileSync('touch', [`${probe}/f`]);
    execFileSync('chattr', ['+i', `${probe}/f`], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', `${probe}/f`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** The journal entries of a job, and the file's mode. */
function journalOf(
  root: string,
  jid: string,
): { mode: number; entries: { kind: string; host?: string; status: string }[] } {
  const file = path.join(root, '.orch', 'journal', `${jid}.jsonl`);
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { kind: string; host?: string; status: string });
  return { mode: statSync(file).mode & 0o777, entries };
}

describe('chaos: the job store fails during an apply', function () {
  this.timeout(180_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  loopbackSuite('orch-chaos-store-', (s, t) => {
    sshd = s;
    tmp = t;
  });

  function project(name: string): { root: string; out: string } {
    const root = path.join(tmp, name);
    const out = path.join(tmp, `${name}-out`);
    writeProject(
      root,
      sshd!,
      {
        slow: cmdState(
          'slow',
          `mkdir -p ${out}; touch ${out}/started; sleep 2; touch ${out}/done`,
          `${out}/done`,
        ),
      },
      { 'a.example.com': ['slow'] },
      'accept_new_hostkeys: true\njobs:\n  lease: 30s\n',
    );
    return { root, out };
  }

  it('SQLite made immutable mid-run: exit 5, journal kept (0600), written at the next open', async function () {
    if (!canChattr()) this.skip();
    const { root, out } = project('sqlite');
    const stateDir = path.join(root, '.orch');
    const r0 = start(root, ['apply', 'a.example.com']);
    try {
      await untilRunning(r0, 'the slow step to start', () => existsSync(`${out}/started`));
      const jid = sqliteJobs(root)[0]!.jid;
      chattr('+i', stateDir);
      const r = await r0.done;
      assert.equal(r.code, 5, `a run whose record failed is not a success:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /the job store failed during the run .* kept in .*journal/);
      assert.ok(existsSync(`${out}/done`), 'the host was changed');
      const j = journalOf(root, jid);
      assert.equal(j.mode, 0o600);
      assert.deepEqual(
        j.entries.map((e) => [e.kind, e.host ?? '', e.status]),
        [
          ['host', 'a.example.com', 'changed'],
          ['finish', '', 'succeeded'],
        ],
      );
      chattr('-i', stateDir);
      const job = await lookup(root, jid);
      assert.equal(job.status, 'succeeded');
      assert.equal(job.exitCode, 0);
      assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed' });
      assert.match(String(job.summary?.recordedLate), /local journal/);
      assert.ok(!existsSync(path.join(stateDir, 'journal', `${jid}.jsonl`)), 'journal removed once written');
      assert.deepEqual(sqliteLocks(root), []);
      const again = await orch(root, ['apply', 'a.example.com']);
      assert.equal(again.code, 0, again.stderr);
    } finally {
      chattr('-i', stateDir);
    }
  });

  describe('on PostgreSQL', () => {
    let server: TempPostgres | undefined;
    before(async function () {
      if (!existsSync(path.join(PG_BIN, 'initdb'))) this.skip();
      server = await startTempPostgres();
    });
    after(async () => server?.stop());

    async function pgCtl(...args: string[]): Promise<void> {
      const bin = path.join(PG_BIN, 'pg_ctl');
      const argv = ['-D', server!.dataDir, '-w', '-t', '30', ...args];
      if (process.getuid?.() === 0)
        await run('runuser', ['-u', 'postgres', '--', bin, ...argv], { cwd: server!.dir });
      else await run(bin, argv, { cwd: server!.dir });
    }

    /** Make every new transaction of the server read-only (sessions already open included), or undo it. */
    async function readOnly(on: boolean): Promise<void> {
      const c = new pg.Client({ connectionString: server!.url() });
      await c.connect();
      try {
        await c.query('SET default_transaction_read_only = off');
        await c.query(
          on
            ? 'ALTER SYSTEM SET default_transaction_read_only = on'
            : 'ALTER SYSTEM RESET default_transaction_read_only',
        );
        await c.query('SELECT pg_reload_conf()');
      } finally {
        await c.end();
      }
      // The reload reaches every backend at its next command; give the signal a moment to land.
      await sleep(300);
    }

    it('store made read-only mid-run: exit 5, journal kept, a reader still reads, written once writable', async () => {
      const { root, out } = project('pgro');
      const url = await server!.createDatabase('orch_chaos_ro');
      const env = { ORCH_JOB_STORE: url };
      const r0 = start(root, ['apply', 'a.example.com'], env);
      await untilRunning(r0, 'the slow step to start', () => existsSync(`${out}/started`));
      const store = await openJobStoreAt(url, path.join(root, '.orch'));
      const [running] = await store.list({ status: 'running' });
      await store.close();
      const jid = running!.jid;
      await readOnly(true);
      try {
        const r = await r0.done;
        assert.equal(r.code, 5, `a run whose record failed is not a success:\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /read-only transaction/);
        assert.ok(existsSync(`${out}/done`), 'the host was changed');
        assert.deepEqual(
          journalOf(root, jid).entries.map((e) => [e.kind, e.status]),
          [
            ['host', 'changed'],
            ['finish', 'succeeded'],
          ],
        );
        // A reader of the read-only store sees what the store holds and claims nothing more.
        const seen = await orch(root, ['-o', 'json', 'jobs', 'lookup', jid], env, 30_000);
        assert.equal(seen.code, 0, seen.stderr);
        assert.notEqual((JSON.parse(seen.stdout) as { status: string }).status, 'succeeded');
        assert.ok(existsSync(path.join(root, '.orch', 'journal', `${jid}.jsonl`)), 'journal still kept');
      } finally {
        await readOnly(false);
      }
      const job = await lookup(root, jid, env);
      assert.equal(job.status, 'succeeded');
      assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed' });
      assert.match(String(job.summary?.recordedLate), /local journal/);
      assert.ok(!readdirSync(path.join(root, '.orch', 'journal')).includes(`${jid}.jsonl`));
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        assert.deepEqual((await c.query('SELECT host FROM orch.host_locks')).rows, [], 'no lock is left');
      } finally {
        await c.end();
      }
      const again = await orch(root, ['apply', 'a.example.com'], env);
      assert.equal(again.code, 0, again.stderr);
    });

    it('server stopped mid-run: exit 5, journal kept, written when the server is back', async () => {
      const { root, out } = project('pg');
      const url = await server!.createDatabase('orch_chaos');
      const env = { ORCH_JOB_STORE: url };
      const r0 = start(root, ['apply', 'a.example.com'], env);
      await untilRunning(r0, 'the slow step to start', () => existsSync(`${out}/started`));
      const store = await openJobStoreAt(url, path.join(root, '.orch'));
      const [running] = await store.list({ status: 'running' });
      await store.close();
      const jid = running!.jid;
      await pgCtl('-m', 'fast', 'stop');
      try {
        const r = await r0.done;
        assert.equal(r.code, 5, `${r.stdout}\n${r.stderr}`);
        assert.ok(existsSync(`${out}/done`));
        assert.deepEqual(
          journalOf(root, jid).entries.map((e) => [e.kind, e.status]),
          [
            ['host', 'changed'],
            ['finish', 'succeeded'],
          ],
        );
        const down = await orch(root, ['jobs', 'lookup', jid], env, 30_000);
        assert.equal(down.code, 5, 'a reader says the store is down, it does not make anything up');
      } finally {
        await pgCtl('-l', path.join(server!.dir, 'server.log'), 'start');
      }
      const job = await lookup(root, jid, env);
      assert.equal(job.status, 'succeeded');
      assert.deepEqual(hostStatuses(job), { 'a.example.com': 'changed' });
      assert.ok(!readdirSync(path.join(root, '.orch', 'journal')).includes(`${jid}.jsonl`));
      const again = await orch(root, ['apply', 'a.example.com'], env);
      assert.equal(again.code, 0, again.stderr);
      await sleep(10);
    });
  });
});
