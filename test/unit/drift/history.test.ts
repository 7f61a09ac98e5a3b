// Drift history: the trend per host computed from drift job records (fake records, and real ones written to and
// listed from an embedded job store), reading a past report back, and the --on-drift hook.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostDrift } from '../../../src/drift/build.js';
import {
  computeTrends,
  formatTrends,
  loadDriftJobs,
  reportFromJob,
} from '../../../src/jobs/drift-history.js';
import { runDriftHook } from '../../../src/drift/on-drift.js';
import type { HostDrift } from '../../../src/drift/types.js';
import { openSqliteStore } from '../../../src/jobs/sqlite-store.js';
import type { JobRecord } from '../../../src/jobs/store.js';
import type { StateResult } from '../../../src/engine/result.js';

const state = (id: string, status: StateResult['status']): StateResult => ({
  id,
  fn: 'file.managed',
  name: id,
  status,
  result: null,
  changed: false,
  comment: '',
  file: 'states/x.yaml',
});
const hd = (host: string, kind: 'clean' | 'drifted' | 'unreachable'): HostDrift =>
  hostDrift({
    host,
    ok: kind !== 'unreachable',
    states:
      kind === 'unreachable'
        ? []
        : [state('a', 'clean'), state('b', kind === 'drifted' ? 'would_change' : 'clean')],
    stats: { connections: 1, execs: 2 },
    ms: 10,
    ...(kind === 'unreachable' ? { error: { code: 'HOST_UNREACHABLE', message: 'timeout' } } : {}),
  });

function job(jid: string, at: string, hosts: HostDrift[], verb = 'drift'): JobRecord {
  return {
    jid,
    verb,
    target: '*',
    args: {},
    user: 'ops',
    status: 'succeeded',
    createdAt: at,
    startedAt: at,
    finishedAt: at,
    hosts: Object.fromEntries(
      hosts.map((h) => [h.host, { host: h.host, status: h.status, result: h, updatedAt: at }]),
    ),
  };
}

describe('drift: history', () => {
  // Newest first, as stores list them.
  const jobs = [
    job('j4', '2026-11-04T02:30:00Z', [hd('db1', 'clean'), hd('db2', 'clean')]),
    job('x9', '2026-11-03T12:00:00Z', [hd('db1', 'drifted')], 'apply'),
    job('j3', '2026-11-03T02:30:00Z', [hd('db1', 'drifted'), hd('db2', 'unreachable')]),
    job('j2', '2026-11-02T02:30:00Z', [hd('db1', 'drifted'), hd('db2', 'clean')]),
    job('j1', '2026-11-01T02:30:00Z', [hd('db1', 'clean')]),
  ];

  it('computes when each host drifted and became clean again', () => {
    const t = computeTrends(jobs);
    assert.deepEqual(
      t.map((x) => x.host),
      ['db1', 'db2'],
    );
    const db1 = t[0]!;
    assert.equal(db1.current, 'clean');
    assert.equal(db1.since, '2026-11-04T02:30:00Z');
    assert.equal(db1.runs, 4, 'the apply job is not a drift run');
    assert.deepEqual(
      db1.changes.map((c) => [c.jid, c.status, c.items]),
      [
        ['j1', 'clean', 0],
        ['j2', 'drifted', 1],
        ['j4', 'clean', 0],
      ],
    );
    const db2 = t[1]!;
    assert.deepEqual(
      db2.changes.map((c) => c.status),
      ['clean', 'unreachable', 'clean'],
    );
    assert.equal(computeTrends(jobs, 'db2').length, 1);
    const text = formatTrends(t);
    assert.match(text, /^db1: clean since 2026-11-04T02:30:00Z \(4 runs\)$/m);
    assert.match(text, /^ {2}2026-11-02T02:30:00Z {2}drifted {5}1 item\(s\) {2}job j2$/m);
  });

  it('a host still drifting says when it was last clean', () => {
    const t = computeTrends(jobs.slice(2));
    assert.match(
      formatTrends(t),
      /db1: drifted since 2026-11-02T02:30:00Z \(3 runs; last clean 2026-11-01T02:30:00Z\)/,
    );
    assert.match(formatTrends([]), /No drift runs recorded yet/);
  });

  it('reads real drift jobs back from the embedded store, per host, and rebuilds a report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-drift-hist-'));
    const store = await openSqliteStore(path.join(dir, 'jobs.sqlite'));
    try {
      for (const [kinds, verb] of [
        [['clean', 'clean'], 'drift'],
        [['drifted', 'clean'], 'drift'],
        [['drifted', 'drifted'], 'apply'],
      ] as const) {
        const j = await store.create({
          verb,
          target: '*',
          args: {},
          user: 'ops',
          status: 'running',
          worker: 'w',
          leaseMs: 60_000,
        });
        for (const [i, k] of kinds.entries()) {
          const h = hd(`db${i + 1}`, k);
          await store.putHostResult(j.jid, h.host, h.status, h);
        }
        await store.finish(j.jid, 'succeeded', (kinds as readonly string[]).includes('drifted') ? 2 : 0, {
          hosts: {},
        });
        await new Promise((r) => setTimeout(r, 5)); // distinct timestamps
      }
      const all = await loadDriftJobs(store, { limit: 10 });
      assert.equal(all.length, 2);
      const t = computeTrends(all);
      assert.deepEqual(
        t.map((x) => [x.host, x.current, x.runs]),
        [
          ['db1', 'drifted', 2],
          ['db2', 'clean', 2],
        ],
      );
      const only = await loadDriftJobs(store, { host: 'db2', limit: 1 });
      assert.equal(only.length, 1);
      const rep = reportFromJob(all[0]!);
      assert.equal(rep.jid, all[0]!.jid);
      assert.deepEqual(
        rep.hosts.map((h) => [h.host, h.status, h.drifted.map((d) => d.id)]),
        [
          ['db1', 'drifted', ['b']],
          ['db2', 'clean', []],
        ],
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('drift: --on-drift hook', () => {
  it('gets the JSON report on stdin and the exit code in its environment', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-drift-hook-'));
    try {
      const out = path.join(dir, 'got.json');
      const res = await runDriftHook(
        `cat > "${out}"; echo "$ORCH_DRIFT_EXIT $ORCH_DRIFT_JID" >> "${out}.env"`,
        '{"jid":"j1"}',
        {
          ORCH_DRIFT_EXIT: '2',
          ORCH_DRIFT_JID: 'j1',
        },
      );
      assert.deepEqual(res, { ok: true, code: 0, timedOut: false, stderr: '' });
      assert.equal(readFileSync(out, 'utf8'), '{"jid":"j1"}');
      assert.equal(readFileSync(`${out}.env`, 'utf8'), '2 j1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a failing or hanging hook without throwing', async () => {
    const bad = await runDriftHook('echo nope >&2; exit 7', '{}', {});
    assert.deepEqual([bad.ok, bad.code, bad.stderr], [false, 7, 'nope']);
    const slow = await runDriftHook('sleep 30', '{}', {}, 200);
    assert.deepEqual([slow.ok, slow.timedOut], [false, true]);
  });
});
