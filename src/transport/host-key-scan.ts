// Fetching the host key a host offers, for `orch hostkeys trust`: key exchange only, no authentication, no
// command. The key is returned only after the host has proved it holds the private half (the handshake's
// signature check). Deciding whether to trust it, and writing known_hosts, is the caller's job. A host behind jump
// hosts is reached through them (jump.ts): those are logged into, so their keys must be trusted already.
import { Client } from 'ssh2';
import { HostUnreachableError, OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { hostKeyAlgorithmsFor } from './host-key-policy.js';
import type { KnownHosts } from './known-hosts.js';
import { openPath } from './jump.js';
import { connectTimeoutFor } from './ssh.js';

/** The host key the host offers (preferring key types already known for it, as a real connection would). */
export async function scanHostKey(
  host: HostSpec,
  opts: { knownHosts: KnownHosts; opensshKnownHosts?: KnownHosts[]; timeoutMs?: number },
): Promise<Buffer> {
  // Dialling a ProxyCommand host directly would fetch the key of whatever answers on another path.
  if (host.sshUnsupported) throw new OrchError('SSH_CONFIG_ERROR', `${host.name}: ${host.sshUnsupported}`);
  const timeoutMs = connectTimeoutFor(host, { connectTimeoutMs: opts.timeoutMs });
  const { stream: sock, destroy } = await openPath(host, opts, { connections: 0, execs: 0 }, timeoutMs);
  const client = new Client();
  const where = `${host.name} (${host.address}:${host.port})`;
  return new Promise<Buffer>((resolve, reject) => {
    let offered: Buffer | undefined;
    let settled = false;
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      destroy();
      if (err || !offered)
        reject(err ?? new HostUnreachableError(host.name, `${where}: no host key received`));
      else resolve(offered);
    };
    const timer = setTimeout(
      () =>
        finish(new HostUnreachableError(host.name, `${where}: no SSH handshake after ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    client.on('handshake', () => finish(undefined));
    client.on('error', (err: Error) =>
      finish(
        new HostUnreachableError(host.name, `${where}: SSH handshake failed: ${err.message}`, { cause: err }),
      ),
    );
    client.on('close', () =>
      finish(new HostUnreachableError(host.name, `${where}: connection closed during the SSH handshake`)),
    );
    client.connect({
      sock: sock as never,
      username: host.user,
      algorithms: { serverHostKey: hostKeyAlgorithmsFor(opts.knownHosts.lookup(host)) as never },
      hostVerifier: (key: Buffer): boolean => {
        offered = Buffer.from(key);
        return true;
      },
      // Never authenticate: the handshake is all this needs.
      authHandler: (_left, _partial, next) => (next as unknown as (v: false) => void)(false),
      readyTimeout: 0,
    });
  });
}
