// The views of `orch jobs`: the table, lookup text (the command's own format, partial while running), id checks.
import { strict as assert } from 'node:assert';
import type { HostRunResult } from '../../../src/engine/result.js';
import { OrchError } from '../../../src/errors.js';
import { checkJid, countsText, jobText, jobsTable, shardLines } from '../../../src/jobs/jobs-verbs.js';
import type { StoredRunHost } from '../../../src/jobs/run-verb.js';
import type { JobRecord } from '../../../src/jobs/store.js';

const NOW = new Date('2026-11-21T09:31:00.000Z');

function job(over: Partial<JobRecord>): JobRecord {
  return {
    jid: '20261121093015123456',
    verb: 'apply',
    target: 'db*',
    args: { hosts: ['db1', 'db2'] },
    user: 'alice',
    status: 'succeeded',
    createdAt: '2026-11-21T09:30:15.123Z',
    startedAt: '2026-11-21T09:30:15.200Z',
    finishedAt: '2026-11-21T09:30:18.400Z',
    worker: 'ctl:99',
    exitCode: 0,
    hosts: {},
    ...over,
  };
}

const db1: HostRunResult = {
  host: 'db1',
  ok: true,
  states: [
    {
      id: 'motd',
      fn: 'file.managed',
      name: '/etc/motd',
      status: 'changed',
      result: true,
      changed: true,
      comment: 'updated',
      diff: '-old\n+new\n',
      file: 'states/site.yaml',
    },
  ],
  stats: { connections: 1, execs: 3 },
  ms: 1200,
};

describe('jobs/jobs-verbs', () => {
  it('accepts 20-digit job ids only, as BAD_INPUT (exit 4) otherwise', () => {
    assert.equal(checkJid(' 20261121093015123456 '), '20261121093015123456');
    for (const bad of ['123', '2026112109301512345x', '20261399093015123456', '']) {
      assert.throws(
        () => checkJid(bad),
        (e: unknown) => e instanceof OrchError && e.code === 'BAD_INPUT',
      );
    }
  });

  it('lists jobs as a table with duration, status and counts', () => {
    const done = job({
      summary: {
        mode: 'apply',
        hosts: 2,
        unreachable: 1,
        failedHosts: 0,
        states: { clean: 3, changed: 1, would_change: 0, unknown: 0, failed: 0, not_run: 0 },
      },
    });
    const running = job({
      jid: '20261121093050000001',
      verb: 'run',
      target: '*',
      status: 'running',
      finishedAt: undefined,
      exitCode: undefined,
      args: { command: ['uptime'], hosts: ['a', 'b', 'c'] },
      hosts: { a: { host: 'a', status: 'ok', result: {}, updatedAt: '' } },
    });
    const text = jobsTable([running, done], NOW);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^JID +VERB +TARGET +USER +STARTED +DURATION +STATUS +COUNTS$/);
    assert.match(
      lines[1]!,
      /^20261121093050000001 +run +\* +alice +2026-11-21 09:30:15Z +44\.8s\+ +running +1\/3 hosts done$/,
    );
    assert.match(
      lines[2]!,
      /^20261121093015123456 +apply +db\* +alice +2026-11-21 09:30:15Z +3\.2s +succeeded +2 host\(s\): 3 clean, 1 changed, 1 unreachable$/,
    );
    assert.equal(jobsTable([], NOW), 'no jobs\n');
    assert.equal(
      countsText(job({ status: 'failed', summary: { error: 'host db1 is locked by job 1' } })),
      'error: host db1 is locked by job 1',
    );
    assert.equal(
      countsText(job({ verb: 'run', summary: { hosts: 3, ok: 2, nonZero: 1, failed: 0, ms: 5 } })),
      '3 host(s): 2 ok, 1 non-zero',
    );
  });

  it('looks up an apply in the highstate format and says when it is still running', () => {
    const running = job({
      status: 'running',
      finishedAt: undefined,
      exitCode: undefined,
      hosts: { db1: { host: 'db1', status: 'changed', result: db1, updatedAt: '' } },
    });
    const text = jobText(running, { now: NOW });
    assert.match(
      text,
      /^job 20261121093015123456: apply db\* by alice\n {2}RUNNING on ctl:99 since .*: 1 of 2 host\(s\) done so far; the results below are partial\n/,
    );
    assert.match(
      text,
      /\ndb1:\n {2}CHANGED +file\.managed motd \(\/etc\/motd\)\n {6}updated\n {6}-old\n {6}\+new\n/,
    );
    assert.match(text, /Summary \(apply\): 1 host\(s\), 0 clean, 1 changed\n$/);
    const finished = jobText(job({ args: { hosts: ['db1'], test: true }, hosts: running.hosts }), {
      now: NOW,
    });
    assert.match(
      finished,
      /^job \S+: apply -t db\* by alice\n {2}succeeded \(exit 0\) on ctl:99, started 2026-11-21 09:30:15Z, took 3\.2s\n/,
    );
    assert.match(finished, /Summary \(test\)/);
  });

  it('looks up a run in the orch run format', () => {
    const a: StoredRunHost = { host: 'a', ok: true, exitCode: 0, stdout: 'up 3 days', stderr: '', ms: 1500 };
    const b: StoredRunHost = {
      host: 'b',
      ok: false,
      exitCode: null,
      stdout: '',
      stderr: '',
      error: { code: 'HOST_UNREACHABLE', message: 'b: refused' },
      ms: 3,
    };
    const text = jobText(
      job({
        verb: 'run',
        target: 'a,b',
        status: 'failed',
        exitCode: 3,
        args: { command: ['uptime'], hosts: ['a', 'b'] },
        summary: { hosts: 2, ok: 1, nonZero: 0, failed: 1, ms: 1600 },
        hosts: {
          b: { host: 'b', status: 'unreachable', result: b, updatedAt: '' },
          a: { host: 'a', status: 'ok', result: a, updatedAt: '' },
        },
      }),
      { now: NOW },
    );
    assert.match(text, /^job \S+: run a,b -- uptime by alice\n {2}failed \(exit 3\)/);
    assert.match(
      text,
      /\n=== a\nup 3 days\n--- exit 0 \(1\.50s\)\n=== b\n--- error HOST_UNREACHABLE: b: refused\n2 host\(s\): 1 exit 0, 0 non-zero, 1 failed to run \(1\.60s\)\n$/,
    );
  });
});

describe('jobs/jobs-verbs: other result shapes', () => {
  it('shows status and stored result per host for verbs with their own result shape', () => {
    const text = jobText(
      job({
        verb: 'drift',
        args: { hosts: ['db1'] },
        hosts: { db1: { host: 'db1', status: 'drifted', result: { findings: ['x'] }, updatedAt: '' } },
      }),
      { now: NOW },
    );
    assert.match(text, /\ndb1: drifted\n {2}\{\n {4}"findings": \[\n/);
  });
});

describe('jobs/jobs-verbs: a sharded job', () => {
  const sharded = (): JobRecord =>
    job({
      status: 'running',
      finishedAt: undefined,
      exitCode: undefined,
      worker: undefined,
      args: { hosts: ['db1', 'db2', 'db3'] },
      shardSize: 2,
      shards: [
        { shard: 0, state: 'done', worker: 'ctl-a:11', attempt: 1, exitCode: 0, hosts: ['db1', 'db2'] },
        {
          shard: 1,
          state: 'claimed',
          worker: 'ctl-b:22',
          attempt: 2,
          leaseUntil: '2026-11-21T09:31:04.000Z',
          hosts: ['db3'],
        },
      ],
      hosts: {
        db1: { host: 'db1', status: 'changed', result: db1, updatedAt: NOW.toISOString() },
        db2: {
          host: 'db2',
          status: 'changed',
          result: { ...db1, host: 'db2' },
          updatedAt: NOW.toISOString(),
        },
        db3: { host: 'db3', status: 'running', result: { progress: { phase: 'checking' } }, updatedAt: '' },
      },
    });

  it('lookup shows each shard: state, worker, attempt, lease and hosts done', () => {
    const text = jobText(sharded(), { now: NOW });
    assert.match(text, /shards: 2 of up to 2 host\(s\): 1 done, 1 claimed, 0 queued/);
    assert.match(text, /shard 1: done by ctl-a:11, 2\/2 host\(s\) done/);
    assert.match(
      text,
      /shard 2: claimed by ctl-b:22 \(attempt 2, lease until 2026-11-21 09:31:04Z\), 0\/1 host\(s\) done/,
    );
    assert.match(text, /2 of 3 host\(s\) done so far/);
  });

  it('lists only the claimed shards of a job with very many, unless verbose', () => {
    const many = sharded();
    many.shards = Array.from({ length: 60 }, (_, i) => ({
      shard: i,
      state: i === 7 ? ('claimed' as const) : ('queued' as const),
      attempt: i === 7 ? 1 : 0,
      hosts: [`h${i}`],
      ...(i === 7 ? { worker: 'ctl-c:3' } : {}),
    }));
    const short = shardLines(many);
    assert.equal(short.length, 3);
    assert.match(short[1]!, /shard 8: claimed by ctl-c:3/);
    assert.match(short[2]!, /59 shard\(s\) not claimed now not listed; -v lists all/);
    assert.equal(shardLines(many, true).length, 61);
  });
});
