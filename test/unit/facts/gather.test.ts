import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { gatherFacts } from '../../../src/facts/gather.js';
import { OrchError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import type { Connection, ExecResult } from '../../../src/transport/types.js';
import { fixture } from './fixtures.js';

const host: HostSpec = {
  name: 'local',
  address: '127.0.0.1',
  port: 22,
  user: 'root',
  groups: [],
  vars: {},
  source: { file: 'test' },
};

/** A Connection whose runScript is given; exec must never be used by facts. */
function fakeConnection(
  runScript: (script: string) => Promise<ExecResult>,
): Connection & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    host,
    scripts,
    async runScript(script) {
      scripts.push(script);
      return runScript(script);
    },
    async exec() {
      throw new Error('facts must not use exec');
    },
    stats: () => ({ connections: 1, execs: scripts.length }),
    async close() {},
  };
}

/** Runs the script with the local /bin/sh -s, as sshd would on a host. */
function localShell(script: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('/bin/sh', ['-s'], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ stdout, stderr, code: err ? (err.code as number) : 0 });
    });
    child.stdin!.end(script);
  });
}

describe('facts/gather', () => {
  it("gathers this machine's facts in exactly one runScript call", async () => {
    const conn = fakeConnection(localShell);
    const f = await gatherFacts(conn);
    assert.equal(conn.scripts.length, 1);
    assert.equal(f.osFamily, 'Debian');
    assert.equal(f.pkgTool, 'apt');
    assert.ok(f.postgres.clusters.some((c) => c.version === '15' && c.name === 'main'));
  });

  it('parses what the host answers', async () => {
    const conn = fakeConnection(async () => ({ stdout: fixture('freebsd14-pg15.txt'), stderr: '', code: 0 }));
    const f = await gatherFacts(conn);
    assert.equal(f.osFamily, 'FreeBSD');
    assert.equal(conn.scripts.length, 1);
  });

  it('fails with COMMAND_FAILED when the shell never ran the probe', async () => {
    const conn = fakeConnection(async () => ({
      stdout: '',
      stderr: 'sudo: a password is required\n',
      code: 1,
    }));
    await assert.rejects(gatherFacts(conn), (err: unknown) => {
      assert.ok(err instanceof OrchError);
      assert.equal(err.code, 'COMMAND_FAILED');
      assert.match(
        err.message,
        /local: facts probe produced no output \(exit 1\): sudo: a password is required/,
      );
      return true;
    });
  });
});
