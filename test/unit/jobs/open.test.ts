import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../../../src/config/project.js';
import { OrchError } from '../../../src/errors.js';
import { configuredJobStore, openJobStore, parseJobStoreSpec } from '../../../src/jobs/open.js';
import { SqliteJobStore } from '../../../src/jobs/sqlite-store.js';

function project(stateDir: string, settings: Record<string, unknown> = {}): ProjectConfig {
  return { root: stateDir, stateDir, inventoryPaths: [], knownHostsFile: '', parallel: 1, settings };
}

describe('jobs/open', () => {
  let dir: string;
  const saved = process.env.ORCH_JOB_STORE;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'orch-jobs-open-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    if (saved === undefined) delete process.env.ORCH_JOB_STORE;
    else process.env.ORCH_JOB_STORE = saved;
  });

  it('defaults to <stateDir>/jobs.sqlite and resolves sqlite: paths against the state dir', () => {
    assert.deepEqual(parseJobStoreSpec(undefined, '/s'), { kind: 'sqlite', file: '/s/jobs.sqlite' });
    assert.deepEqual(parseJobStoreSpec('sqlite:j.db', '/s'), { kind: 'sqlite', file: '/s/j.db' });
    assert.deepEqual(parseJobStoreSpec('sqlite:/abs/j.db', '/s'), { kind: 'sqlite', file: '/abs/j.db' });
    assert.deepEqual(parseJobStoreSpec('postgresql://u@h/db', '/s'), {
      kind: 'postgres',
      url: 'postgresql://u@h/db',
    });
  });

  it('rejects unknown specs with JOB_STORE_ERROR and hides credentials', () => {
    assert.throws(
      () => parseJobStoreSpec('mysql://root:hunter2@h/db', '/s'),
      (e: unknown) =>
        e instanceof OrchError && e.code === 'JOB_STORE_ERROR' && !e.message.includes('hunter2'),
    );
    assert.throws(() => parseJobStoreSpec('sqlite:', '/s'), /needs a file path/);
  });

  it('takes ORCH_JOB_STORE over orch.yaml jobs.store', () => {
    const p = project('/s', { jobs: { store: 'sqlite:from-yaml.db' } });
    delete process.env.ORCH_JOB_STORE;
    assert.equal(configuredJobStore(p), 'sqlite:from-yaml.db');
    assert.equal(configuredJobStore(p, { ORCH_JOB_STORE: 'postgres://x@y/z' }), 'postgres://x@y/z');
    assert.equal(configuredJobStore(project('/s')), undefined);
    assert.throws(() => configuredJobStore(project('/s', { jobs: { store: 42 } }), {}), /jobs\.store/);
  });

  it('opens the embedded store in the state dir by default', async () => {
    delete process.env.ORCH_JOB_STORE;
    const store = await openJobStore(project(path.join(dir, 'state')));
    try {
      assert.ok(store instanceof SqliteJobStore);
      assert.equal(store.file, path.join(dir, 'state', 'jobs.sqlite'));
    } finally {
      await store.close();
    }
  });

  it('opens what ORCH_JOB_STORE names', async () => {
    process.env.ORCH_JOB_STORE = `sqlite:${path.join(dir, 'env.sqlite')}`;
    const store = await openJobStore(project(path.join(dir, 'state')));
    try {
      assert.equal((store as SqliteJobStore).file, path.join(dir, 'env.sqlite'));
    } finally {
      await store.close();
    }
  });
});
