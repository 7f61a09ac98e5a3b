// Whether a job's worker process is gone, on this machine: a pid with no process, a pid reused by a process that
// started after the job, and live workers (this process, a child started before the job, another machine).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { goneWorker, processStartMs } from '../../../src/jobs/liveness.js';
import type { JobRecord } from '../../../src/jobs/store.js';

function job(worker: string, startedAt: Date): JobRecord {
  return {
    jid: '20260101000000000000',
    verb: 'apply',
    target: 'x',
    args: {},
    user: 't',
    status: 'running',
    createdAt: startedAt.toISOString(),
    startedAt: startedAt.toISOString(),
    worker,
    hosts: {},
  };
}

describe('jobs/liveness', () => {
  const here = os.hostname();

  it('a pid without a process is gone; a live child started before the job is not', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const started = processStartMs(pid);
    assert.ok(typeof started === 'number' && Math.abs(started - Date.now()) < 5000, `start ${started}`);
    const at = new Date(Date.now() + 10);
    assert.equal(goneWorker(job(`${here}:${pid}`, at)), undefined);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.match(goneWorker(job(`${here}:${pid}`, at)) ?? '', /is gone \(no process \d+\)/);
  });

  it('a pid reused by a process started after the job is gone', () => {
    // Our own parent is alive, but a job that started an hour before it cannot be its.
    const ppid = process.ppid;
    const t = processStartMs(ppid) as number;
    const old = job(`${here}:${ppid}`, new Date(t - 3_600_000));
    assert.match(goneWorker(old) ?? '', /now belongs to a process started after the job/);
    assert.equal(goneWorker(job(`${here}:${ppid}`, new Date(t + 1000))), undefined);
  });

  it('says nothing of this process, of other machines, or of jobs that are not running', () => {
    assert.equal(goneWorker(job(`${here}:${process.pid}`, new Date())), undefined);
    assert.equal(goneWorker(job(`elsewhere.example.com:1`, new Date())), undefined);
    assert.equal(goneWorker({ ...job(`${here}:999999999`, new Date()), status: 'succeeded' }), undefined);
    assert.equal(goneWorker(job('cli', new Date())), undefined);
  });
});
