import { strict as assert } from 'node:assert';
import type { ProjectConfig } from '../../../src/config/project.js';
import { OrchError } from '../../../src/errors.js';
import { jobsSettings, parseDuration, parseSince } from '../../../src/jobs/settings.js';

const project = (settings: Record<string, unknown>): ProjectConfig => ({
  root: '/p',
  stateDir: '/p/.orch',
  inventoryPaths: [],
  knownHostsFile: '',
  parallel: 1,
  settings,
});

describe('jobs/settings', () => {
  it('parses durations with units; a bare number is seconds', () => {
    assert.equal(parseDuration('30d', 'x'), 30 * 86_400_000);
    assert.equal(parseDuration('2h', 'x'), 7_200_000);
    assert.equal(parseDuration('15m', 'x'), 900_000);
    assert.equal(parseDuration('90s', 'x'), 90_000);
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('1.5h', 'x'), 5_400_000);
    assert.equal(parseDuration('1w', 'x'), 604_800_000);
    assert.equal(parseDuration('45', 'x'), 45_000);
    assert.equal(parseDuration(3, 'x'), 3000);
    for (const bad of ['', '0s', '-1h', '3 days', 'h', '2x']) {
      assert.throws(
        () => parseDuration(bad, '--older-than'),
        (e: unknown) => e instanceof OrchError && e.code === 'BAD_INPUT' && /--older-than/.test(e.message),
        bad,
      );
    }
  });

  it('reads --since as a duration back from now or an ISO date', () => {
    const now = new Date('2026-11-21T12:00:00Z');
    assert.equal(parseSince('2h', now).toISOString(), '2026-11-21T10:00:00.000Z');
    assert.equal(parseSince('2026-11-20', now).toISOString(), '2026-11-20T00:00:00.000Z');
    assert.equal(parseSince('2026-11-20T08:30:00Z', now).toISOString(), '2026-11-20T08:30:00.000Z');
    assert.throws(() => parseSince('yesterday', now), /--since/);
    assert.throws(() => parseSince('2026-13-45', now), /--since/);
  });

  it('gives defaults and reads orch.yaml jobs: lease, retention, spawn_worker', () => {
    assert.deepEqual(jobsSettings(project({})), {
      leaseMs: 60_000,
      retentionMs: 30 * 86_400_000,
      spawnWorker: true,
    });
    assert.deepEqual(jobsSettings(project({ jobs: { lease: '2s', retention: '7d', spawn_worker: false } })), {
      leaseMs: 2000,
      retentionMs: 7 * 86_400_000,
      spawnWorker: false,
    });
    assert.throws(
      () => jobsSettings(project({ jobs: { spawn_worker: 'no' } })),
      /spawn_worker must be true or false/,
    );
    assert.throws(() => jobsSettings(project({ jobs: { retention: 'forever' } })), /jobs.retention/);
  });
});
