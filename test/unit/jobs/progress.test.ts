// Host progress in the job record: a running host's phase and last line are stored (status `running`) as they
// arrive, at most about once a second, its result replaces them and is never overwritten by a late progress
// write; `orch jobs lookup` shows them in the header; \r-redrawn meters give their newest line.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import { jobHeader, jobText, countsText } from '../../../src/jobs/jobs-verbs.js';
import { openJobStore } from '../../../src/jobs/open.js';
import { lastLineOf } from '../../../src/jobs/progress.js';
import { recordedRun } from '../../../src/jobs/record.js';
import type { JobRecord, JobStore } from '../../../src/jobs/store.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('jobs/progress: host progress in the job record', () => {
  let dir: string;
  let project: ProjectConfig;
  let store: JobStore;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-progress-'));
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
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is stored while the host runs, throttled, then replaced by the result for good', async () => {
    const seen: JobRecord[] = [];
    const out = await recordedRun(
      project,
      { verb: 'run', target: 'a,b', args: { command: ['x'], hosts: ['a', 'b'] } },
      async (ctx) => {
        ctx.hostProgress('a', { phase: 'running', line: '10%' });
        for (let i = 11; i <= 40; i++) ctx.hostProgress('a', { phase: 'running', line: `${i}%` });
        await sleep(100);
        seen.push((await store.get(ctx.jid))!);
        await sleep(1200);
        seen.push((await store.get(ctx.jid))!);
        ctx.hostResult('a', 'ok', { host: 'a', ok: true, exitCode: 0, stdout: 'done\n', stderr: '', ms: 1 });
        ctx.hostProgress('a', { phase: 'running', line: 'late' });
        await sleep(1200);
        seen.push((await store.get(ctx.jid))!);
        return { exitCode: 0 };
      },
      { warn: () => undefined },
    );
    const [first, second, third] = seen;
    assert.equal(first!.hosts.a?.status, 'running');
    assert.equal((first!.hosts.a?.result as { progress: { line: string } }).progress.line, '10%');
    assert.equal(
      (second!.hosts.a?.result as { progress: { line: string } }).progress.line,
      '40%',
      'the newest line arrives within about a second',
    );
    assert.match(jobHeader(second!), /\n {2}a: running: 40% \(at /);
    assert.equal(countsText(second!), '0/2 hosts done', 'a host with only progress is not done');
    assert.equal(third!.hosts.a?.status, 'ok', 'progress after the result never overwrites it');
    const final = (await store.get(out.jid))!;
    assert.equal(final.hosts.a?.status, 'ok');
    assert.doesNotMatch(jobText(final), /no result/);
  });

  it('a job that ended with a host still running says it has no result and where it was last seen', async () => {
    const out = await recordedRun(
      project,
      { verb: 'apply', target: 'a', args: { hosts: ['a'] } },
      async (ctx) => {
        ctx.hostProgress('a', { phase: 'applying', line: 'pg_basebackup: 1234/5678 kB (21%)' });
        await sleep(50);
        return { exitCode: 130, status: 'interrupted' as const };
      },
      { warn: () => undefined },
    );
    const text = jobText((await store.get(out.jid))!);
    assert.match(text, /a: no result; last seen applying: pg_basebackup: 1234\/5678 kB \(21%\)/);
  });

  it('lastLineOf: the newest non-empty line, \\r-redrawn meters included, partial lines kept for later', () => {
    const lines: string[] = [];
    const feed = lastLineOf((l) => lines.push(l));
    feed('starting\n 10%\r');
    feed(' 20%\r 3');
    feed('0%\r\n\n');
    feed('half a li');
    assert.deepEqual(lines, ['10%', '20%', '30%']);
    feed('ne\n');
    assert.equal(lines.at(-1), 'half a line');
  });
});
