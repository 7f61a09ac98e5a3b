// Which credentials orch offers a host, in order: the inventory's identity file alone; else ssh_config's
// IdentityFile list, then the ssh-agent (not with IdentitiesOnly); else the agent, else the default key files of the
// local user. Public-key methods only: orch never sends a password and never sends a `none` probe first.
// A passphrase-protected file is asked for once on the terminal (./passphrase.ts), unless the agent is offered
// anyway and may hold it (then the file is left to the agent, as loading it there is the usual setup).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// ssh2 is CommonJS: only a few names are visible as ES named exports, `utils` is not.
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware } from 'ssh2';
import { AuthFailedError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { askOnTerminal, type PassphraseSource } from './passphrase.js';

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface AuthOptions {
  env?: NodeJS.ProcessEnv;
  /** Where passphrases of protected key files come from; the terminal by default. */
  passphrase?: PassphraseSource;
}

/** The authentication attempts for a host, first to last; throws AuthFailedError when there is nothing to offer. */
export async function authMethodsFor(host: HostSpec, o: AuthOptions = {}): Promise<AnyAuthMethod[]> {
  const env = o.env ?? process.env;
  const ask = o.passphrase ?? askOnTerminal;
  const username = host.user;
  if (host.identity) return [await keyMethod(host, host.identity, ask)];
  const agent = env.SSH_AUTH_SOCK;
  const useAgent = agent !== undefined && agent !== '' && host.identitiesOnly !== true;
  if (host.identityFiles?.length) {
    const methods: AnyAuthMethod[] = [];
    // OpenSSH skips IdentityFile entries that do not exist (a `Host *` default may name keys one does not have).
    for (const file of host.identityFiles.filter((f) => existsSync(f))) {
      if (useAgent && isEncrypted(file)) continue;
      methods.push(await keyMethod(host, file, ask));
    }
    if (useAgent) methods.push({ type: 'agent', username, agent });
    if (methods.length === 0) {
      throw new AuthFailedError(
        host.name,
        `${host.name}: none of the IdentityFile keys exists (${host.identityFiles.join(', ')})` +
          (host.identitiesOnly ? ' and IdentitiesOnly keeps the agent out' : ''),
      );
    }
    return methods;
  }
  if (agent) return [{ type: 'agent', username, agent }];
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

/** A public-key method for a key file, its passphrase asked for when it has one. */
async function keyMethod(host: HostSpec, file: string, ask: PassphraseSource): Promise<AnyAuthMethod> {
  const data = readKeyFile(host, file);
  const parsed = ssh2.utils.parseKey(data);
  if (!(parsed instanceof Error)) return { type: 'publickey', username: host.user, key: data };
  if (!isEncryptedError(parsed)) {
    throw new AuthFailedError(
      host.name,
      `${host.name}: cannot use identity file ${file}: ${parsed.message}`,
      {
        cause: parsed,
      },
    );
  }
  const passphrase = await ask(file, host.name, (p) => !(ssh2.utils.parseKey(data, p) instanceof Error));
  return { type: 'publickey', username: host.user, key: data, passphrase };
}

function readKeyFile(host: HostSpec, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AuthFailedError(
      host.name,
      `${host.name}: cannot read identity file ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** ssh2 says so in its message; there is no error code. */
function isEncryptedError(err: Error): boolean {
  return /encrypted|passphrase/i.test(err.message);
}

function isEncrypted(file: string): boolean {
  try {
    const parsed = ssh2.utils.parseKey(readFileSync(file));
    return parsed instanceof Error && isEncryptedError(parsed);
  } catch {
    return false;
  }
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
