// Trusting OpenSSH's known_hosts besides orch's own: hashed and [host]:port entries, @revoked, @cert-authority.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostKeyChangedError, HostKeyUnknownError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { decideWithOpenSsh } from '../../../src/transport/known-hosts-openssh.js';
import { hashHostName } from '../../../src/transport/known-hosts-format.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';

function keygen(dir: string): { blob: Buffer; line: string } {
  const file = path.join(dir, `k-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const [type, b64] = readFileSync(`${file}.pub`, 'utf8').split(' ');
  return { blob: Buffer.from(b64!, 'base64'), line: `${type} ${b64}` };
}

describe('OpenSSH known_hosts, opted in', () => {
  let dir: string;
  let own: KnownHosts;
  let ownFile: string;
  let sshFile: string;
  let key: { blob: Buffer; line: string };
  let other: { blob: Buffer; line: string };
  const host: HostSpec = {
    name: 'db1.example.net',
    address: '192.0.2.7',
    port: 2222,
    user: 'root',
    groups: [],
    vars: {},
    source: { file: 't' },
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-khssh-'));
    key = keygen(dir);
    other = keygen(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    ownFile = path.join(dir, `own-${Math.random()}`);
    sshFile = path.join(dir, `ssh-${Math.random()}`);
    own = new KnownHosts(ownFile);
  });
  const ssh = (text: string): KnownHosts[] => {
    writeFileSync(sshFile, text);
    return [new KnownHosts(sshFile)];
  };

  it('accepts a key listed under a hashed [host]:port name, without writing either file', () => {
    const stores = ssh(`${hashHostName('[db1.example.net]:2222')} ${key.line}\n`);
    const d = decideWithOpenSsh(own, stores, host, key.blob, false);
    assert.deepEqual(d, { accept: true, recordNew: false });
    assert.equal(existsSync(ownFile), false);
    // Without the opt-in the same key is unknown.
    const off = decideWithOpenSsh(own, [], host, key.blob, false);
    assert.equal(off.accept, false);
    assert.ok(!off.accept && off.error instanceof HostKeyUnknownError);
  });

  it('refuses a key the OpenSSH file knows differently, and any key it marks @revoked', () => {
    const changed = decideWithOpenSsh(own, ssh(`[192.0.2.7]:2222 ${other.line}\n`), host, key.blob, true);
    assert.ok(!changed.accept && changed.error instanceof HostKeyChangedError);
    assert.match(!changed.accept ? changed.error.message : '', new RegExp(sshFile));
    // Revoked in the OpenSSH file wins even over orch's own trust.
    own.add(host, key.blob);
    const revoked = decideWithOpenSsh(own, ssh(`@revoked * ${key.line}\n`), host, key.blob, false);
    assert.ok(!revoked.accept && /@revoked/.test(revoked.error.message));
  });

  it('refuses, even with accept-new, a host covered only by a @cert-authority line, saying why', () => {
    const d = decideWithOpenSsh(
      own,
      ssh(`@cert-authority *.example.net,[*.example.net]:* ${other.line}\n`),
      host,
      key.blob,
      true,
    );
    assert.equal(d.accept, false);
    assert.ok(!d.accept && d.error instanceof HostKeyUnknownError);
    assert.match(!d.accept ? d.error.message : '', /cannot verify host certificates/);
    assert.equal(existsSync(ownFile), false, 'nothing recorded');
    // A host outside the authority's patterns is decided by the usual policy (accept-new records it).
    const elsewhere = { ...host, name: 'web.example.org', address: '192.0.2.8' };
    assert.deepEqual(decideWithOpenSsh(own, [new KnownHosts(sshFile)], elsewhere, key.blob, true), {
      accept: true,
      recordNew: true,
    });
  });

  it("keeps orch's own verdict first: a key orch knows changed stays refused", () => {
    own.add(host, other.blob);
    const d = decideWithOpenSsh(own, ssh(`[db1.example.net]:2222 ${key.line}\n`), host, key.blob, false);
    assert.ok(!d.accept && d.error instanceof HostKeyChangedError);
    assert.match(!d.accept ? d.error.message : '', new RegExp(ownFile));
  });
});
