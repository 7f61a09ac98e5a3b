// `npm test`'s prerequisite check: one line naming what is missing and what to run, and no silent skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { missingPrereqs, PREREQ_HINT, requireIntegration } from '../helpers/prereqs.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('npm test prerequisites', () => {
  it('names each missing tool with its package, and root', () => {
    const only = new Set(['/usr/bin/ssh-keygen', '/usr/sbin/ip', '/usr/bin/nsenter', '/usr/bin/unshare']);
    const missing = missingPrereqs((f) => only.has(f), 1000, 'linux');
    assert.equal(missing[0], 'root');
    assert.ok(missing.includes('/usr/sbin/sshd (openssh-server)'));
    assert.ok(missing.includes('/usr/lib/postgresql/15/bin/postgres (postgresql-15)'));
    assert.ok(!missing.some((m) => m.startsWith('ssh-keygen')));
    assert.deepEqual(
      missingPrereqs(() => true, 0, 'linux'),
      [],
    );
    assert.deepEqual(
      missingPrereqs(() => true, 0, 'darwin'),
      ['Linux'],
    );
  });

  it('fails a suite with that line instead of skipping it', () => {
    let skipped = false;
    const ctx = {
      skip: () => {
        skipped = true;
        throw new Error('skipped');
      },
    } as unknown as Mocha.Context;
    assert.throws(
      () => requireIntegration(ctx, 'the lab suite', ['root', '/usr/sbin/sshd (openssh-server)']),
      (e: unknown) =>
        e instanceof Error &&
        e.message === `the lab suite needs root, /usr/sbin/sshd (openssh-server): ${PREREQ_HINT}` &&
        /sudo bash scripts\/ci-deps\.sh/.test(e.message),
    );
    assert.equal(skipped, false);
    requireIntegration(ctx, 'the lab suite', []);
    assert.equal(skipped, false);
  });

  it('the check script says so once under ORCH_TEST_UNIT_ONLY=1 and passes', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'test-prereqs.ts')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ORCH_TEST_UNIT_ONLY: '1' },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^npm test: ORCH_TEST_UNIT_ONLY=1: suites that need sshd, the lab or PostgreSQL skip\n$/,
    );
  });
});
