import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnyAuthMethod } from 'ssh2';
import { AuthFailedError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { authHandlerFor, authMethodsFor } from '../../../src/transport/auth.js';

describe('auth methods', () => {
  let dir: string;
  let key: string;
  const base: HostSpec = {
    name: 'h',
    address: '10.0.0.1',
    port: 22,
    user: 'deploy',
    groups: [],
    vars: {},
    source: { file: 't' },
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-auth-'));
    key = path.join(dir, 'id');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the identity file alone when the host names one', () => {
    const m = authMethodsFor({ ...base, identity: key }, { SSH_AUTH_SOCK: '/tmp/agent.sock' });
    assert.equal(m.length, 1);
    assert.equal(m[0]!.type, 'publickey');
    assert.equal(m[0]!.username, 'deploy');
  });

  it('uses the agent when there is no identity file', () => {
    const m = authMethodsFor(base, { SSH_AUTH_SOCK: '/tmp/agent.sock' });
    assert.deepEqual(m, [{ type: 'agent', username: 'deploy', agent: '/tmp/agent.sock' }]);
  });

  it('fails clearly on a missing or passphrase-protected identity', () => {
    assert.throws(
      () => authMethodsFor({ ...base, identity: path.join(dir, 'nope') }, {}),
      (e: unknown) => e instanceof AuthFailedError && /cannot read identity file/.test(e.message),
    );
    const locked = path.join(dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', locked]);
    assert.throws(
      () => authMethodsFor({ ...base, identity: locked }, {}),
      (e: unknown) => e instanceof AuthFailedError && /ssh-agent/.test(e.message),
    );
    writeFileSync(path.join(dir, 'junk'), 'not a key');
    assert.throws(() => authMethodsFor({ ...base, identity: path.join(dir, 'junk') }, {}), AuthFailedError);
  });

  it('offers methods in order without a none probe, skips ones the server does not allow, then gives up', () => {
    const methods: AnyAuthMethod[] = [
      { type: 'publickey', username: 'u', key: Buffer.from('a') },
      { type: 'agent', username: 'u', agent: '/s' },
      { type: 'publickey', username: 'u', key: Buffer.from('b') },
    ];
    const handler = authHandlerFor(methods);
    const got: unknown[] = [];
    const next = (v: unknown): void => void got.push(v);
    handler(null as never, false, next);
    handler(['password', 'keyboard-interactive'], false, next);
    handler(['publickey'], false, next);
    assert.deepEqual(got, [methods[0], false, false]);
    const h2 = authHandlerFor(methods);
    const got2: unknown[] = [];
    const next2 = (v: unknown): void => void got2.push(v);
    h2(null as never, false, next2);
    h2(['publickey'], false, next2);
    h2(['publickey'], false, next2);
    h2(['publickey'], false, next2);
    assert.deepEqual(got2, [methods[0], methods[1], methods[2], false]);
  });
});
