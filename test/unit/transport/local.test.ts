// The local Connection and Connector (src/transport/local.ts): the Connection contract on this machine's /bin/sh.
import { strict as assert } from 'node:assert';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OrchError } from '../../../src/errors.js';
import { localConnector } from '../../../src/transport/local.js';
import { testHost } from '../../helpers/local-connection.js';

describe('transport: local connection', () => {
  it('runs a script on stdin, streams stdout and stderr, gives the exit status and counts execs', async () => {
    const counters = { connections: 0, execs: 0 };
    const conn = await localConnector().open(testHost('h1'), counters);
    const out: string[] = [];
    const err: string[] = [];
    const res = await conn.runScript('echo one; echo two >&2; exit 3', {
      onStdout: (c) => out.push(c),
      onStderr: (c) => err.push(c),
    });
    assert.deepEqual([res.stdout, res.stderr, res.code], ['one\n', 'two\n', 3]);
    assert.equal(out.join(''), 'one\n');
    assert.equal(err.join(''), 'two\n');
    assert.equal((await conn.exec('printf %s "$0"')).stdout, '/bin/sh');
    assert.deepEqual(counters, { connections: 1, execs: 2 });
    assert.deepEqual(conn.stats(), counters);
    assert.equal(conn.host.name, 'h1');
    await conn.close();
    await assert.rejects(conn.exec('true'), /connection closed/);
  });

  it('gives each host its own directory and environment, and stops a command at its timeout', async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'orch-local-')));
    try {
      const connector = localConnector((h) => ({ cwd: dir, env: { FAKE_HOST: h.name } }));
      const conn = await connector.open(testHost('h2'), { connections: 0, execs: 0 });
      assert.equal((await conn.runScript('pwd; echo "$FAKE_HOST"')).stdout, `${dir}\nh2\n`);
      await assert.rejects(
        conn.exec('sleep 5', { timeoutMs: 100 }),
        (e: unknown) => e instanceof OrchError && e.code === 'TIMEOUT',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to open once the run gave up (CANCELLED)', async () => {
    const abort = new AbortController();
    abort.abort('interrupted');
    await assert.rejects(
      localConnector().open(testHost(), { connections: 0, execs: 0 }, abort.signal),
      (e: unknown) => e instanceof OrchError && e.code === 'CANCELLED' && /interrupted/.test(e.message),
    );
  });
});
