// The registry of job kinds: stored arguments are checked against the kind's schema before a worker runs anything,
// unknown verbs are refused with what this orch runs, and the job views use each kind's own words (drift: clean,
// drifted; its report in lookup).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import { OrchError } from '../../../src/errors.js';
import { JOB_KINDS, jobArgs, jobKind, requireJobKind } from '../../../src/jobs/kinds.js';
import { jobText, jobsTable } from '../../../src/jobs/jobs-verbs.js';
import { openJobStore } from '../../../src/jobs/open.js';
import type { JobRecord, JobStore } from '../../../src/jobs/store.js';
import { runClaimedJob } from '../../../src/jobs/worker.js';

function drift(exitCode: number, hosts: Record<string, number>, result?: unknown): JobRecord {
  return {
    jid: '20261201120000000001',
    verb: 'drift',
    target: '*',
    args: { target: '*', hosts: ['db1'] },
    user: 'ops',
    status: 'succeeded',
    createdAt: '2026-12-01T12:00:00.000Z',
    startedAt: '2026-12-01T12:00:00.000Z',
    finishedAt: '2026-12-01T12:00:02.000Z',
    exitCode,
    summary: { hosts },
    hosts: result
      ? { db1: { host: 'db1', status: 'drifted', result, updatedAt: '2026-12-01T12:00:01.000Z' } }
      : {},
  };
}

describe('jobs/kinds: the registry of job kinds', () => {
  it('holds apply, run, drift and the lifecycle verbs, each with a schema', () => {
    assert.deepEqual(
      JOB_KINDS.map((k) => k.verb),
      ['apply', 'run', 'drift', 'pg switchover', 'pg promote', 'pg follow', 'pg rejoin'],
    );
    for (const k of JOB_KINDS) assert.equal(typeof k.args.safeParse, 'function');
  });

  it('checks stored arguments against the kind: a command that is not a list of words is refused', () => {
    const run = requireJobKind('run');
    assert.deepEqual(jobArgs(run, { command: ['echo', 'hi'], timeout: 2 }), {
      command: ['echo', 'hi'],
      timeout: 2,
    });
    assert.throws(
      () => jobArgs(run, { command: 'rm -rf /' }),
      (e: unknown) => e instanceof OrchError && e.code === 'BAD_INPUT' && /args\.command/.test(e.message),
    );
    assert.throws(
      () => jobArgs(requireJobKind('apply'), { parallel: -3 }),
      (e: unknown) => e instanceof OrchError && /args\.parallel/.test(e.message),
    );
  });

  it('a lifecycle job: its stored arguments are checked, and it locks the cluster stored with it unless --test', () => {
    const promote = requireJobKind('pg promote');
    assert.throws(
      () => jobArgs(promote, { standby: 'b', test: false, wait: 60, allowBehind: 'yes' }),
      (e: unknown) => e instanceof OrchError && /args\.allowBehind/.test(e.message),
    );
    const args = jobArgs(promote, {
      standby: 'b',
      test: false,
      wait: 60,
      allowBehind: false,
      cluster: ['p', 'a', 'b'],
    });
    const target = [{ name: 'b', address: '10.0.0.2' }] as never;
    assert.deepEqual(promote.recordOptions!(args, target).lockHosts, ['p', 'a', 'b']);
    const test = jobArgs(requireJobKind('pg rejoin'), { host: 'p', test: true, wait: 5, cluster: ['p'] });
    assert.equal(requireJobKind('pg rejoin').recordOptions!(test, target).lockHosts, undefined);
  });

  it('refuses a verb no kind claims, naming the kinds it runs', () => {
    assert.equal(jobKind('frobnicate'), undefined);
    assert.throws(
      () => requireJobKind('frobnicate'),
      (e: unknown) =>
        e instanceof OrchError &&
        e.code === 'BAD_INPUT' &&
        /apply, run, drift, pg switchover/.test(e.message),
    );
  });

  it('lists a drift job as clean or drifted with its hosts by status', () => {
    const table = jobsTable([
      drift(0, { clean: 2, drifted: 0 }),
      { ...drift(2, { clean: 1, drifted: 1 }), jid: '20261201120000000002' },
    ]);
    const [, clean, drifted] = table.trimEnd().split('\n');
    assert.match(clean!, /\sclean\s+2 host\(s\): 2 clean$/);
    assert.match(drifted!, /\sdrifted\s+2 host\(s\): 1 clean, 1 drifted$/);
  });

  it('looks a drift job up as its drift report', () => {
    const text = jobText(
      drift(
        2,
        { drifted: 1 },
        {
          host: 'db1',
          status: 'drifted',
          clean: 0,
          cleanStates: [],
          drifted: [
            { id: 'conf', fn: 'file.managed', name: '/etc/x', comment: 'content differs', file: 's.yaml' },
          ],
          unknown: [],
          errors: [],
          pg: [],
          pgChecked: false,
          ms: 5,
        },
      ),
    );
    assert.match(text, /drifted \(exit 2\)/);
    assert.match(text, /\ndb1 +drifted \(1 state\)\n/);
    assert.match(text, /content differs/);
  });

  describe('the worker', () => {
    let dir: string;
    let project: ProjectConfig;
    let store: JobStore;
    beforeEach(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'orch-kinds-'));
      mkdirSync(path.join(dir, 'inventory'));
      writeFileSync(
        path.join(dir, 'inventory', 'hosts.yaml'),
        'hosts:\n  a.example.com:\n    address: 127.0.0.1\n',
      );
      project = {
        root: dir,
        stateDir: path.join(dir, 'state'),
        inventoryPaths: [path.join(dir, 'inventory')],
        knownHostsFile: path.join(dir, 'known_hosts'),
        parallel: 1,
        settings: {},
      };
      store = await openJobStore(project);
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function claimed(verb: string, args: Record<string, unknown>): Promise<JobRecord> {
      await store.create({ verb, target: 'a.example.com', args, user: 'ops', status: 'queued' });
      const job = await store.claimNext('w1', 5000);
      assert.ok(job);
      return job;
    }

    it('fails a job whose stored arguments do not fit its kind, before any host is contacted', async () => {
      const job = await claimed('run', { command: 'uptime' });
      const code = await runClaimedJob(project, store, job, { leaseMs: 5000 });
      assert.equal(code, 4);
      const after = await store.get(job.jid);
      assert.equal(after?.status, 'failed');
      assert.match(String(after?.summary?.error), /stored arguments of this run job .*args\.command/);
      assert.deepEqual(after?.hosts, {}, 'no host was tried');
    });

    it('fails a job of an unknown verb with what this worker runs', async () => {
      const job = await claimed('pg-switchover', {});
      assert.equal(await runClaimedJob(project, store, job, { leaseMs: 5000 }), 4);
      assert.match(
        String((await store.get(job.jid))?.summary?.error),
        /does not know how to run .*pg-switchover/,
      );
    });
  });
});
