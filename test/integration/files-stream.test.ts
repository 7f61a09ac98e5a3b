// Transfers under become to a non-root account over a real OpenSSH server on loopback (sudo to nobody): the data
// fed on the exec channel after the script, the raw stdout of a fetch, and a script that fails before it asks for
// the data ending with its stdin still open. The lab test (files.test.ts) does the same through the CLI.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchFile, sendFile } from '../../src/files/cp.js';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { connect } from '../../src/transport/ssh.js';
import type { Connection } from '../../src/transport/types.js';
import { canRunLocalSshd, hostFor, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('files streamed under sudo to nobody, on a local sshd', function () {
  this.timeout(120_000);
  let sshd: LocalSshd;
  let tmp: string;
  let conn: Connection;
  let nobody: number;

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-stream-it-'));
    chmodSync(tmp, 0o711); // nobody passes through to its own directory
    const kh = new KnownHosts(path.join(tmp, 'known_hosts'));
    const host = hostFor(sshd, { become: { method: 'sudo', user: 'nobody' } });
    kh.add(host, sshd.hostKeyBlob());
    conn = await connect(host, { knownHosts: kh });
    nobody = Number((await conn.runScript('id -u')).stdout.trim());
  });
  after(async () => {
    await conn?.close();
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('sends into a directory of nobody and fetches it back, byte for byte', async () => {
    const dir = mkdtempSync(path.join(tmp, 'nobody-'));
    chownSync(dir, nobody, -1);
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(6 << 20)]);
    const local = path.join(tmp, 'data.bin');
    writeFileSync(local, data);
    const remote = path.join(dir, 'data.bin');
    const o = { localFile: local, remote, sha256: sha(data), mode: '0600', become: true };
    const before = conn.stats();
    assert.deepEqual(await sendFile(conn, o), { changed: true });
    assert.equal(conn.stats().execs - before.execs, 1, 'one exec, no staging');
    assert.equal(conn.stats().sftp ?? 0, 0);
    assert.ok(readFileSync(remote).equals(data));
    assert.equal(statSync(remote).uid, nobody);
    assert.equal(statSync(remote).mode & 0o7777, 0o600);
    assert.deepEqual(await sendFile(conn, o), { changed: false });
    const got = await fetchFile(conn, remote, path.join(tmp, 'got'), true);
    assert.ok(readFileSync(got.localFile).equals(data));
    assert.deepEqual(readdirSync(dir), ['data.bin'], 'no temp file beside the target');
  });

  it('ends at once when the script fails before it asks for the data', async () => {
    const local = path.join(tmp, 'small.bin');
    writeFileSync(local, 'x');
    await assert.rejects(
      sendFile(conn, {
        localFile: local,
        remote: path.join(tmp, 'no-such-dir', 'x.bin'),
        sha256: sha(Buffer.from('x')),
        become: true,
      }),
      /no-such-dir does not exist/,
    );
  });
});
