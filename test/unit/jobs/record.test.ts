// recordedRun on a real SQLite store in a temp state dir, with fake work: the job always finishes, host results are
// stored as they arrive, host locks conflict with exit 6 (or are waited for), and work that cannot be recorded is
// refused before it runs.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.js';
import { OrchError } from '../../../src/errors.js';
import { openJobStore } from '../../../src/jobs/open.js';
import { recordedRun, type JobContext } from '../../../src/jobs/record.js';
import type { JobStore } from '../../../src/jobs/store.js';
import { MASK, redactor } from '../../../src/secrets/redactor.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('jobs/record: recordedRun', () => {
  let dir: string;
  let project: ProjectConfig;
  let store: JobStore;
  let n = 0;
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-record-'));
    const stateDir = path.join(dir, `state${++n}`);
    project = { root: dir, stateDir, inventoryPaths: [], knownHostsFile: '', parallel: 1, settings: {} };
    store = await openJobStore(project);
    warnings.length = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a running job, stores each host result as it arrives and finishes succeeded', async () => {
    let seenWhileRunning: unknown;
    const out = await recordedRun(
      project,
      { verb: 'apply', target: 'web*', args: { hosts: ['web1', 'web2'] } },
      async (ctx: JobContext) => {
        const running = await store.get(ctx.jid);
        assert.equal(running?.status, 'running');
        assert.match(running!.worker!, /^.+:\d+$/);
        ctx.hostResult('web1', 'changed', { host: 'web1', ok: true });
        await sleep(50);
        seenWhileRunning = (await store.get(ctx.jid))?.hosts.web1?.status;
        ctx.hostResult('web2', 'ok', { host: 'web2', ok: true });
        return { exitCode: 0, summary: { hosts: 2 }, extra: 'kept' };
      },
      { warn },
    );
    assert.equal(seenWhileRunning, 'changed', 'a host result is visible before the job ends');
    assert.equal(out.extra, 'kept');
    const job = await store.get(out.jid);
    assert.equal(job?.status, 'succeeded');
    assert.equal(job?.exitCode, 0);
    assert.deepEqual(job?.summary, { hosts: 2 });
    assert.deepEqual(Object.keys(job!.hosts).sort(), ['web1', 'web2']);
    assert.equal(job?.hosts.web2?.status, 'ok');
    assert.ok(job?.finishedAt);
    assert.deepEqual(warnings, []);
  });

  it('finishes failed by the exit code, and failed with the message when the work throws', async () => {
    const failed = await recordedRun(
      project,
      { verb: 'run', target: 'h', args: {} },
      async () => ({ exitCode: 3 }),
      {
        warn,
      },
    );
    assert.equal((await store.get(failed.jid))?.status, 'failed');
    assert.equal((await store.get(failed.jid))?.exitCode, 3);

    let jid = '';
    await assert.rejects(
      recordedRun(
        project,
        { verb: 'run', target: 'h', args: {} },
        async (ctx) => {
          jid = ctx.jid;
          // A result handed over just before the throw must still be stored before the job ends.
          ctx.hostResult('h', 'failed', { boom: true });
          throw new OrchError('TEMPLATE_ERROR', 'states/x.yaml:3: undefined variable');
        },
        { warn },
      ),
      /undefined variable/,
    );
    const job = await store.get(jid);
    assert.equal(job?.status, 'failed');
    assert.equal(job?.exitCode, EXIT.BAD_INPUT);
    assert.deepEqual(job?.summary, { error: 'states/x.yaml:3: undefined variable' });
    assert.deepEqual(job?.hosts.h?.result, { boom: true });
    assert.equal(job?.leaseUntil, undefined);
  });

  it('masks registered secrets in args, results and summaries', async () => {
    const secret = `s3cret-${process.pid}-record`;
    redactor.add(secret);
    const out = await recordedRun(
      project,
      { verb: 'run', target: 'h', args: { command: ['echo', secret] } },
      async (ctx) => {
        ctx.hostResult('h', 'ok', { stdout: `pw=${secret}\n` });
        return { exitCode: 0, summary: { note: secret } };
      },
      { warn },
    );
    const job = await store.get(out.jid);
    const text = JSON.stringify(job);
    assert.ok(!text.includes(secret), text);
    assert.deepEqual(job?.args.command, ['echo', MASK]);
    assert.equal((job?.hosts.h?.result as { stdout: string }).stdout, `pw=${MASK}\n`);
  });

  it('keeps the lease alive while the work runs longer than the lease', async () => {
    const out = await recordedRun(
      project,
      { verb: 'run', target: 'h', args: {} },
      async (ctx) => {
        await sleep(700);
        assert.deepEqual(await store.reapExpired(), [], 'a heartbeating job is not reaped');
        assert.equal((await store.get(ctx.jid))?.status, 'running');
        return { exitCode: 0 };
      },
      { leaseMs: 300, warn },
    );
    assert.equal((await store.get(out.jid))?.status, 'succeeded');
  });

  it('fails fast with LOCKED (exit 6) naming the host and the job holding it; the work never runs', async () => {
    const holder = await store.create({
      verb: 'apply',
      target: 'db1',
      args: {},
      user: 'bob',
      status: 'running',
      worker: 'w:1',
    });
    assert.deepEqual(await store.lockHosts(holder.jid, ['db1'], 60_000), { ok: true });
    let ran = false;
    let err: unknown;
    try {
      await recordedRun(
        project,
        { verb: 'apply', target: 'db*', args: {} },
        async () => {
          ran = true;
          return { exitCode: 0 };
        },
        { lockHosts: ['db0', 'db1'], warn },
      );
    } catch (e) {
      err = e;
    }
    assert.equal(ran, false);
    assert.ok(err instanceof OrchError && err.code === 'LOCKED', String(err));
    assert.equal(exitCodeFor(err), EXIT.LOCKED);
    assert.match(
      (err as Error).message,
      new RegExp(`host db1 is locked by job ${holder.jid} \\(apply db1 by bob`),
    );
    const refused = (await store.list({ verb: 'apply', target: 'db*' }))[0]!;
    assert.equal(refused.status, 'failed');
    assert.equal(refused.exitCode, EXIT.LOCKED);
    // All or nothing: db0 was not left locked by the refused job.
    const other = await store.create({
      verb: 'apply',
      target: 'db0',
      args: {},
      user: 'u',
      status: 'running',
      worker: 'w:2',
    });
    assert.deepEqual(await store.lockHosts(other.jid, ['db0'], 60_000), { ok: true });
  });

  it('with wait, takes the hosts once the holder finishes, and releases them at the end', async () => {
    const holder = await store.create({
      verb: 'apply',
      target: 'db1',
      args: {},
      user: 'bob',
      status: 'running',
      worker: 'w:1',
    });
    await store.lockHosts(holder.jid, ['db1'], 60_000);
    setTimeout(() => void store.finish(holder.jid, 'succeeded', 0), 400);
    const started = Date.now();
    const out = await recordedRun(
      project,
      { verb: 'apply', target: 'db1', args: {} },
      async (ctx) => {
        const probe = await store.create({
          verb: 'apply',
          target: 'db1',
          args: {},
          user: 'u',
          status: 'running',
          worker: 'w:3',
        });
        const got = await store.lockHosts(probe.jid, ['db1'], 60_000);
        assert.deepEqual(got, { ok: false, host: 'db1', heldBy: ctx.jid }, 'held for the whole job');
        await store.finish(probe.jid, 'failed', 6);
        return { exitCode: 0 };
      },
      { lockHosts: ['db1'], wait: true, waitTimeoutMs: 10_000, warn },
    );
    assert.ok(Date.now() - started >= 350);
    assert.match(warnings.join('\n'), /db1 is locked by job \d{20}; waiting/);
    const after = await store.create({
      verb: 'apply',
      target: 'db1',
      args: {},
      user: 'u',
      status: 'running',
      worker: 'w:4',
    });
    assert.deepEqual(
      await store.lockHosts(after.jid, ['db1'], 60_000),
      { ok: true },
      `released by ${out.jid}`,
    );
  });

  it('gives up waiting after the wait timeout with LOCKED', async () => {
    const holder = await store.create({
      verb: 'apply',
      target: 'db1',
      args: {},
      user: 'bob',
      status: 'running',
      worker: 'w:1',
    });
    await store.lockHosts(holder.jid, ['db1'], 60_000);
    const started = Date.now();
    await assert.rejects(
      recordedRun(project, { verb: 'apply', target: 'db1', args: {} }, async () => ({ exitCode: 0 }), {
        lockHosts: ['db1'],
        wait: true,
        waitTimeoutMs: 600,
        warn,
      }),
      (e: unknown) =>
        e instanceof OrchError && e.code === 'LOCKED' && /still locked after waiting/.test(e.message),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 550 && waited < 5000, `waited ${waited} ms`);
  });

  it('sees a cancel request and finishes the job cancelled', async () => {
    const out = await recordedRun(
      project,
      { verb: 'run', target: 'h', args: {} },
      async (ctx) => {
        assert.equal(ctx.cancelled(), false);
        await store.requestCancel(ctx.jid);
        for (let i = 0; i < 50 && !ctx.cancelled(); i++) await sleep(20);
        assert.equal(ctx.cancelled(), true);
        return { exitCode: EXIT.ERROR };
      },
      { cancelPollMs: 20, warn },
    );
    assert.equal((await store.get(out.jid))?.status, 'cancelled');
  });

  it('refuses to start (JOB_STORE_ERROR, exit 5) when the store cannot be opened; the work never runs', async () => {
    const blocked = path.join(dir, 'a-file');
    writeFileSync(blocked, 'not a directory');
    const bad: ProjectConfig = { ...project, stateDir: path.join(blocked, 'state') };
    let ran = false;
    await assert.rejects(
      recordedRun(bad, { verb: 'apply', target: 'h', args: {} }, async () => {
        ran = true;
        return { exitCode: 0 };
      }),
      (e: unknown) =>
        e instanceof OrchError &&
        e.code === 'JOB_STORE_ERROR' &&
        exitCodeFor(e) === EXIT.ERROR &&
        /refusing to start apply: it could not be recorded/.test(e.message),
    );
    assert.equal(ran, false);
  });

  it('refuses to start when the store cannot be written', async () => {
    const readOnly: JobStore = Object.create(store) as JobStore;
    readOnly.create = async () => {
      throw new OrchError('JOB_STORE_ERROR', 'attempt to write a readonly database');
    };
    let ran = false;
    await assert.rejects(
      recordedRun(
        project,
        { verb: 'apply', target: 'h', args: {} },
        async () => {
          ran = true;
          return { exitCode: 0 };
        },
        { store: readOnly, warn },
      ),
      /refusing to start apply: .*readonly database/,
    );
    assert.equal(ran, false);
  });

  it('runs a claimed job as its worker and leaves a given store open', async () => {
    const queued = await store.create({
      verb: 'run',
      target: 'h',
      args: { command: ['true'] },
      user: 'u',
      status: 'queued',
    });
    const claimed = (await store.claimNext('box:42', 60_000))!;
    assert.equal(claimed.jid, queued.jid);
    const out = await recordedRun(
      project,
      { verb: 'run', target: 'h', args: claimed.args },
      async (ctx) => {
        assert.equal(ctx.jid, queued.jid);
        assert.equal(await store.heartbeat(ctx.jid, 'box:42', 60_000), true);
        return { exitCode: 0 };
      },
      { store, claimed, warn },
    );
    assert.equal(out.jid, queued.jid);
    const job = await store.get(queued.jid);
    assert.equal(job?.status, 'succeeded');
    assert.equal(job?.worker, 'box:42');
    assert.equal((await store.list({})).length, 1, 'no second job was created');
  });
});
