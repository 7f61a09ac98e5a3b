import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostKeyChangedError, HostKeyUnknownError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { decideHostKey, hostKeyAlgorithmsFor } from '../../../src/transport/host-key-policy.js';
import { fingerprint, KnownHosts } from '../../../src/transport/known-hosts.js';

function keygen(dir: string, type: string): Buffer {
  const file = path.join(dir, `k-${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  return Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1]!, 'base64');
}

describe('host key policy', () => {
  let dir: string;
  let kh: KnownHosts;
  let oldKey: Buffer;
  let newKey: Buffer;
  const host: HostSpec = {
    name: 'db1',
    address: '10.0.0.7',
    port: 2222,
    user: 'root',
    groups: [],
    vars: {},
    source: { file: 't' },
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-hkp-'));
    oldKey = keygen(dir, 'ed25519');
    newKey = keygen(dir, 'ed25519');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    rmSync(path.join(dir, 'known_hosts'), { force: true });
    kh = new KnownHosts(path.join(dir, 'known_hosts'));
  });

  it('refuses an unknown key and says how to trust it; accept-new lets it through for recording', () => {
    const d = decideHostKey(kh, host, newKey, false);
    assert.ok(!d.accept && d.error instanceof HostKeyUnknownError);
    assert.match(d.error.message, /`orch hostkeys trust db1`/);
    assert.ok(d.error.message.includes(fingerprint(newKey)));
    assert.deepEqual(decideHostKey(kh, host, newKey, true), { accept: true, recordNew: true });
  });

  it('refuses a changed key with both fingerprints, also under accept-new', () => {
    kh.add(host, oldKey);
    for (const acceptNew of [false, true]) {
      const d = decideHostKey(kh, host, newKey, acceptNew);
      assert.ok(!d.accept && d.error instanceof HostKeyChangedError);
      assert.ok(d.error.message.includes(fingerprint(oldKey)));
      assert.ok(d.error.message.includes(fingerprint(newKey)));
      assert.match(d.error.message, /refuses/);
    }
    assert.deepEqual(decideHostKey(kh, host, oldKey, false), { accept: true, recordNew: false });
  });

  it('refuses a revoked key as changed', () => {
    writeFileSync(
      kh.file,
      `db1 ssh-ed25519 ${oldKey.toString('base64')}\n@revoked * ssh-ed25519 ${oldKey.toString('base64')}\n`,
    );
    const d = decideHostKey(kh, { ...host, port: 22 }, oldKey, true);
    assert.ok(!d.accept && d.error instanceof HostKeyChangedError);
    assert.match(d.error.message, /@revoked/);
  });

  it('offers the host key algorithms already known for the host first', () => {
    const ecdsa = keygen(dir, 'ecdsa');
    kh.add(host, ecdsa);
    const algos = hostKeyAlgorithmsFor(kh.lookup(host));
    assert.equal(algos[0], 'ecdsa-sha2-nistp256');
    assert.equal(new Set(algos).size, algos.length);
    const rsaFirst = hostKeyAlgorithmsFor([
      { kind: 'entry', raw: '', lineNo: 1, patterns: ['x'], keyType: 'ssh-rsa', keyBase64: '' },
    ]);
    assert.deepEqual(rsaFirst.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.equal(hostKeyAlgorithmsFor([])[0], 'ssh-ed25519');
  });
});
