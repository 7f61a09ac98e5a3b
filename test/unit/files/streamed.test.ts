// The controller side of transfers under become to another account (src/files/streamed.ts through cp.ts's
// sendFile and fetchFile): a connection whose runStreamed runs the real scripts on the local /bin/sh, and ones that
// corrupt a byte or time out half-way, to show that a local copy is kept only when both hashes match and that a
// partial one is removed.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { fetchFile, sendFile } from '../../../src/files/cp.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import type { Connection, ExecResult, StreamOptions } from '../../../src/transport/types.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const host: HostSpec = {
  name: 'db1',
  address: '127.0.0.1',
  port: 22,
  user: 'deploy',
  become: { method: 'sudo', user: 'postgres' },
  groups: [],
  vars: {},
  source: { file: 'test' },
};

/** runStreamed on the local shell (as the test's own user); `mangle` may change stdout on its way. */
function localStreamer(mangle?: (b: Buffer) => Buffer): Connection['runStreamed'] {
  return (script: string, opts: StreamOptions): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let fed = false;
      if (opts.stdoutSink) {
        const t = new Transform({ transform: (c: Buffer, _e, done) => done(null, mangle ? mangle(c) : c) });
        child.stdout.pipe(t).pipe(opts.stdoutSink as NodeJS.WritableStream, { end: false });
      } else
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString('latin1');
          if (!opts.feed || fed) return;
          if (stdout.includes(opts.feed.send)) {
            fed = true;
            opts.feed.data().pipe(child.stdin);
          } else if (stdout.includes(opts.feed.skip)) {
            fed = true;
            child.stdin.end();
          }
        });
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => setImmediate(() => resolve({ stdout, stderr, code })));
      if (opts.feed) child.stdin.write(script);
      else child.stdin.end(script);
    });
}

function conn(runStreamed: Connection['runStreamed']): Connection {
  return {
    host,
    runStreamed,
    runScript: () => Promise.reject(new Error('not used')),
    exec: () => Promise.reject(new Error('not used')),
    files: () => Promise.reject(new Error('SFTP must not be used under become to another account')),
    stats: () => ({ connections: 1, execs: 0 }),
    close: () => Promise.resolve(),
  };
}

describe('files/streamed: orch cp under become to another account', () => {
  let dir: string;
  let data: Buffer;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-streamed-'));
    data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1024 * 1024)]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends over the exec channel, then reports a second send unchanged', async () => {
    const local = path.join(dir, 'local.bin');
    writeFileSync(local, data);
    const remote = path.join(dir, 'remote.bin');
    const c = conn(localStreamer());
    const o = { localFile: local, remote, sha256: sha(data), mode: '0600', become: true };
    assert.deepEqual(await sendFile(c, o), { changed: true });
    assert.ok(readFileSync(remote).equals(data));
    assert.deepEqual(await sendFile(c, o), { changed: false });
  });

  it('fetches byte for byte, checked against the host sha256', async () => {
    const remote = path.join(dir, 'remote.bin');
    writeFileSync(remote, data);
    const got = await fetchFile(conn(localStreamer()), remote, path.join(dir, 'got'), true);
    assert.equal(got.localFile, path.join(dir, 'got', 'db1', 'remote.bin'));
    assert.equal(got.bytes, data.length);
    assert.ok(readFileSync(got.localFile).equals(data));
    assert.deepEqual(readdirSync(path.join(dir, 'got', 'db1')), ['remote.bin'], 'no partial file');
  });

  it('keeps nothing when a byte changed on the way', async () => {
    const remote = path.join(dir, 'remote.bin');
    writeFileSync(remote, data);
    let flipped = false;
    const flip = (b: Buffer): Buffer => {
      if (flipped || b.length === 0) return b;
      flipped = true;
      const c = Buffer.from(b);
      c[0] = c[0]! ^ 1;
      return c;
    };
    await assert.rejects(
      fetchFile(conn(localStreamer(flip)), remote, path.join(dir, 'got'), true),
      (e: Error & { code?: string }) =>
        e.code === 'TRANSFER_FAILED' && /does not match the sha256 of what the host sent/.test(e.message),
    );
    assert.deepEqual(readdirSync(path.join(dir, 'got', 'db1')), []);
  });

  it('removes the partial local file after a timeout, once its writer has closed', async () => {
    const remote = path.join(dir, 'remote.bin');
    writeFileSync(remote, data);
    // Half the bytes arrive, then the command times out (the connection rejects, as ssh-connection does).
    const timesOut: Connection['runStreamed'] = (_script, opts) =>
      new Promise((_resolve, reject) => {
        opts.stdoutSink!.write(data.subarray(0, data.length / 2), () =>
          reject(Object.assign(new Error('db1: command timed out'), { code: 'TIMEOUT' })),
        );
      });
    await assert.rejects(fetchFile(conn(timesOut), remote, path.join(dir, 'got'), true), /timed out/);
    assert.deepEqual(readdirSync(path.join(dir, 'got', 'db1')), []);
    assert.equal(existsSync(path.join(dir, 'got', 'db1', 'remote.bin')), false);
  });

  it('reports a missing file on the host as the host said it', async () => {
    await assert.rejects(
      fetchFile(conn(localStreamer()), path.join(dir, 'nope'), path.join(dir, 'got'), true),
      /db1: .*nope does not exist/,
    );
  });
});
