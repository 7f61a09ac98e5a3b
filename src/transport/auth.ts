// Which credentials orch offers a host, in order: the host's identity file, else the ssh-agent, else the
// default key files of the local user. Public-key methods only: orch never asks for or sends a password,
// and never sends a `none` probe first (one round trip less).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// ssh2 is CommonJS: only a few names are visible as ES named exports, `utils` is not.
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware } from 'ssh2';
import { AuthFailedError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** The authentication attempts for a host, first to last; throws AuthFailedError when there is nothing to offer. */
export function authMethodsFor(host: HostSpec, env: NodeJS.ProcessEnv = process.env): AnyAuthMethod[] {
  const username = host.user;
  if (host.identity) return [{ type: 'publickey', username, key: readKey(host, host.identity) }];
  if (env.SSH_AUTH_SOCK) return [{ type: 'agent', username, agent: env.SSH_AUTH_SOCK }];
  const home = os.homedir();
  const files = DEFAULT_KEY_FILES.map((f) => path.join(home, '.ssh', f)).filter((f) => existsSync(f));
  const methods: AnyAuthMethod[] = [];
  for (const file of files) {
    const key = tryReadKey(file);
    if (key) methods.push({ type: 'publickey', username, key });
  }
  if (methods.length === 0) {
    throw new AuthFailedError(
      host.name,
      `${host.name}: no credentials to offer: set "identity" for the host in the inventory, or start ssh-agent (SSH_AUTH_SOCK)`,
    );
  }
  return methods;
}

/** An ssh2 authHandler that offers the given methods in order, then gives up (ssh2 then reports auth failure). */
export function authHandlerFor(methods: readonly AnyAuthMethod[]): AuthHandlerMiddleware {
  let next = 0;
  return (authsLeft, _partial, done) => {
    while (next < methods.length) {
      const m = methods[next++]!;
      // authsLeft is null before the first attempt: offer our first method straight away.
      const allowed = !authsLeft || authsLeft.includes(m.type === 'agent' ? 'publickey' : m.type);
      if (allowed) return done(m);
    }
    (done as unknown as (v: false) => void)(false);
  };
}

function readKey(host: HostSpec, file: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new AuthFailedError(
      host.name,
      `${host.name}: cannot read identity file ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) {
    // Passphrase-protected keys land here too: orch does not prompt; such keys belong in ssh-agent.
    throw new AuthFailedError(
      host.name,
      `${host.name}: cannot use identity file ${file}: ${parsed.message} (passphrase-protected keys must be loaded into ssh-agent)`,
      { cause: parsed },
    );
  }
  return data;
}

function tryReadKey(file: string): Buffer | undefined {
  try {
    const data = readFileSync(file);
    return ssh2.utils.parseKey(data) instanceof Error ? undefined : data;
  } catch {
    return undefined;
  }
}

interface ParsedKey {
  isPrivateKey(): boolean;
  sign(data: Buffer, hashAlgo?: string): Buffer | Error;
}
type SignCallback = (buf: Buffer, done: (signature: Buffer) => void) => void;
type AuthPK = (
  username: string,
  key: ParsedKey,
  keyAlgo?: string | SignCallback,
  cbSign?: SignCallback,
) => void;

/**
 * Make ssh2 send a signed public-key request at once instead of first asking whether the key would be
 * accepted (RFC 4252 allows both): one round trip less per connection. Only for keys whose private half is
 * in memory (identity files); agent keys keep ssh2's query-then-sign. Reaches into ssh2's protocol object,
 * so it checks the shape first and leaves ssh2 alone when that shape is not there.
 */
export function signPublicKeyDirectly(client: object): void {
  const proto = (client as { _protocol?: { authPK?: AuthPK } })._protocol;
  if (!proto || typeof proto.authPK !== 'function') return;
  const original = proto.authPK.bind(proto);
  proto.authPK = (username, key, keyAlgo, cbSign) => {
    if (
      cbSign ||
      typeof keyAlgo === 'function' ||
      typeof key?.isPrivateKey !== 'function' ||
      !key.isPrivateKey()
    ) {
      return original(username, key, keyAlgo, cbSign);
    }
    const hashAlgo =
      keyAlgo === 'rsa-sha2-256' ? 'sha256' : keyAlgo === 'rsa-sha2-512' ? 'sha512' : undefined;
    return original(username, key, keyAlgo, (buf, done) => {
      const signature = key.sign(buf, hashAlgo);
      if (signature instanceof Error) throw signature;
      done(signature);
    });
  };
}
