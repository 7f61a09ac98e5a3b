// recordedRun under SIGINT/SIGTERM (signals emitted in-process, exit stubbed): the first one lets the work finish
// and records the job interrupted with the results it reported, exit 130/143, locks freed; the second one runs
// the hard-exit bookkeeping at once (job interrupted, locks freed) and exits with the same code.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import {
  installInterruptHandlers,
  interruptedBy,
  resetInterruptForTests,
  simulateInterrupt,
  uninstallInterruptHandlers,
} from '../../../src/jobs/interrupt.js';
import { openJobStore } from '../../../src/jobs/open.js';
import { recordedRun } from '../../../src/jobs/record.js';
import { JobWorker } from '../../../src/jobs/worker.js';
import type { JobStore } from '../../../src/jobs/store.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('jobs/interrupt: recordedRun under signals', () => {
  let dir: string;
  let project: ProjectConfig;
  let store: JobStore;
  const exits: number[] = [];
  const notices: string[] = [];

  before(() => installInterruptHandlers({ exit: (c) => exits.push(c), notice: (l) => notices.push(l) }));
  after(() => uninstallInterruptHandlers());
  beforeEach(async () => {
    resetInterruptForTests();
    exits.length = 0;
    notices.length = 0;
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-interrupt-'));
    project = {
      root: dir,
      stateDir: path.join(dir, 'state'),
      inventoryPaths: [],
      knownHostsFile: '',
      parallel: 1,
      settings: {},
    };
    store = await openJobStore(project);
  });
  afterEach(async () => {
    resetInterruptForTests();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('first SIGINT: the work sees cancelled(), finishes, the job is interrupted (130) with its results', async () => {
    let reason: string | undefined;
    const out = await recordedRun(
      project,
      { verb: 'apply', target: 'a,b', args: {} },
      async (ctx) => {
        ctx.hostResult('a', 'changed', { host: 'a' });
        simulateInterrupt('SIGINT');
        assert.equal(ctx.cancelled(), true);
        reason = ctx.stopReason();
        await sleep(20);
        ctx.hostResult('b', 'not_run', { host: 'b' });
        return { exitCode: 0 };
      },
      { lockHosts: ['a', 'b'], warn: () => undefined },
    );
    assert.equal(reason, 'interrupted by SIGINT');
    assert.equal(out.exitCode, 130);
    assert.deepEqual(exits, [], 'the first signal does not exit');
    assert.match(notices[0]!, /SIGINT: stopping/);
    const job = await store.get(out.jid);
    assert.equal(job?.status, 'interrupted');
    assert.equal(job?.exitCode, 130);
    assert.deepEqual(
      Object.values(job!.hosts).map((h) => [h.host, h.status]),
      [
        ['a', 'changed'],
        ['b', 'not_run'],
      ],
    );
    // The locks went with the job: another job takes them at once.
    const other = await store.create({
      verb: 'apply',
      target: 'a',
      args: {},
      user: 't',
      status: 'running',
      worker: 'x:1',
    });
    assert.deepEqual(await store.lockHosts(other.jid, ['a', 'b'], 60_000), { ok: true });
  });

  it('second SIGTERM: records the job interrupted (143) and frees the locks before exiting', async () => {
    let jid = '';
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const running = recordedRun(
      project,
      { verb: 'apply', target: 'a', args: {} },
      async (ctx) => {
        jid = ctx.jid;
        ctx.hostResult('a', 'changed', { host: 'a' });
        ctx.hostProgress('b', { phase: 'applying', line: 'copied 3/6 GB' });
        simulateInterrupt('SIGTERM');
        simulateInterrupt('SIGTERM');
        await blocked;
        return { exitCode: 0 };
      },
      { lockHosts: ['a'], warn: () => undefined },
    );
    await sleep(50);
    assert.equal(interruptedBy(), 'SIGTERM');
    assert.deepEqual(exits, [143]);
    const job = await store.get(jid);
    assert.equal(job?.status, 'interrupted');
    assert.equal(job?.exitCode, 143);
    assert.equal(job?.hosts.a?.status, 'changed', 'a result not yet flushed was written on the way out');
    assert.equal(job?.hosts.b?.status, 'interrupted', 'a host still in its step is not left running');
    assert.match(JSON.stringify(job?.hosts.b?.result), /"phase":"applying","line":"copied 3\/6 GB"/);
    const other = await store.create({
      verb: 'apply',
      target: 'a',
      args: {},
      user: 't',
      status: 'running',
      worker: 'x:1',
    });
    assert.deepEqual(await store.lockHosts(other.jid, ['a'], 60_000), { ok: true });
    release();
    await running;
  });

  it('a worker told to stop while idle returns at once, not after its idle pause', async () => {
    const worker = new JobWorker(project, store, { maxIdleMs: 20_000 });
    const running = worker.run();
    await sleep(1500);
    const t0 = Date.now();
    worker.stopClaiming();
    const out = await running;
    assert.ok(Date.now() - t0 < 500, `returned ${Date.now() - t0} ms after stopClaiming`);
    assert.deepEqual(out.jobs, []);
  });
});
