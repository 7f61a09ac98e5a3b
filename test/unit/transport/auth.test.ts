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

  const never = (): Promise<string> => Promise.reject(new Error('no passphrase should be asked for'));

  it('uses the identity file alone when the host names one', async () => {
    const m = await authMethodsFor(
      { ...base, identity: key },
      { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' }, passphrase: never },
    );
    assert.equal(m.length, 1);
    assert.equal(m[0]!.type, 'publickey');
    assert.equal(m[0]!.username, 'deploy');
  });

  it('uses the agent when there is no identity file', async () => {
    const m = await authMethodsFor(base, { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' } });
    assert.deepEqual(m, [{ type: 'agent', username: 'deploy', agent: '/tmp/agent.sock' }]);
  });

  it('fails clearly on a missing or unreadable identity', async () => {
    await assert.rejects(
      authMethodsFor({ ...base, identity: path.join(dir, 'nope') }, { env: {} }),
      (e: unknown) => e instanceof AuthFailedError && /cannot read identity file/.test(e.message),
    );
    writeFileSync(path.join(dir, 'junk'), 'not a key');
    await assert.rejects(
      authMethodsFor({ ...base, identity: path.join(dir, 'junk') }, { env: {}, passphrase: never }),
      AuthFailedError,
    );
  });

  it('asks once for the passphrase of a protected identity and hands it to ssh2', async () => {
    const locked = path.join(dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', locked]);
    const asked: string[] = [];
    const source = async (file: string, _host: string, check: (p: string) => boolean): Promise<string> => {
      asked.push(file);
      assert.equal(check('wrong'), false);
      assert.equal(check('secret-pass'), true);
      return 'secret-pass';
    };
    const m = await authMethodsFor({ ...base, identity: locked }, { env: {}, passphrase: source });
    assert.deepEqual(asked, [locked]);
    assert.equal(m.length, 1);
    assert.equal((m[0] as { passphrase?: string }).passphrase, 'secret-pass');
    // No terminal to ask on (the default source, with no controlling tty): one clear line what to do instead.
    const noTty = async (file: string, host: string): Promise<string> => {
      throw new AuthFailedError(
        host,
        `${host}: identity file ${file} is passphrase-protected (ssh-add ${file})`,
      );
    };
    await assert.rejects(
      authMethodsFor({ ...base, identity: locked }, { env: {}, passphrase: noTty }),
      (e: unknown) => e instanceof AuthFailedError && /ssh-add/.test(e.message),
    );
  });

  it('offers ssh_config IdentityFile keys that exist, then the agent unless IdentitiesOnly', async () => {
    const locked = path.join(dir, 'locked2');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw', '-f', locked]);
    const files = [path.join(dir, 'missing'), key, locked];
    const env = { SSH_AUTH_SOCK: '/tmp/agent.sock' };
    // With an agent, a protected file is left to the agent instead of prompting.
    const withAgent = await authMethodsFor({ ...base, identityFiles: files }, { env, passphrase: never });
    assert.deepEqual(
      withAgent.map((m) => m.type),
      ['publickey', 'agent'],
    );
    let asked = 0;
    const only = await authMethodsFor(
      { ...base, identityFiles: files, identitiesOnly: true },
      {
        env,
        passphrase: async () => {
          asked++;
          return 'pw';
        },
      },
    );
    assert.deepEqual(
      only.map((m) => m.type),
      ['publickey', 'publickey'],
    );
    assert.equal(asked, 1);
    await assert.rejects(
      authMethodsFor({ ...base, identityFiles: [path.join(dir, 'missing')], identitiesOnly: true }, { env }),
      (e: unknown) => e instanceof AuthFailedError && /IdentitiesOnly/.test(e.message),
    );
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
