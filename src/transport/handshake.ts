// The SSH leg of a connection over an already open byte stream (a TCP socket, or a channel forwarded by a jump
// host): the host key checked against known_hosts before any authentication, public-key auth first (no `none`
// probe), keepalive on. Resolves with the authenticated ssh2 client. Failures become the transport errors of
// src/errors.ts with the original error kept as `cause`; the stream is destroyed on failure.
import type { Duplex } from 'node:stream';
import { Client, type AnyAuthMethod } from 'ssh2';
import { AuthFailedError, HostUnreachableError, OrchError, type TransportError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { authHandlerFor, signPublicKeyDirectly } from './auth.js';
import { hostKeyAlgorithmsFor } from './host-key-policy.js';
import { decideWithOpenSsh, opensshEntries } from './known-hosts-openssh.js';
import type { KnownHosts } from './known-hosts.js';
import { abortError } from './socket.js';

export interface HandshakeOptions {
  knownHosts: KnownHosts;
  /** OpenSSH known_hosts files also trusted (read only); see known-hosts-openssh.ts. */
  opensshKnownHosts?: readonly KnownHosts[];
  acceptNew?: boolean;
  signal?: AbortSignal;
}

/** Key exchange, host key check and authentication over `stream`; at most `timeoutMs`. */
export function sshHandshake(
  host: HostSpec,
  stream: Duplex,
  methods: readonly AnyAuthMethod[],
  opts: HandshakeOptions,
  timeoutMs: number,
): Promise<Client> {
  const client = new Client();
  const openssh = opts.opensshKnownHosts ?? [];
  const decide = (key: Buffer, acceptNew: boolean) =>
    decideWithOpenSsh(opts.knownHosts, openssh, host, key, acceptNew);
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    let hostKeyError: TransportError | undefined;
    let keyToRecord: Buffer | undefined;
    const fail = (err: OrchError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      client.end();
      stream.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new HostUnreachableError(
            host.name,
            `${where(host)}: no SSH session after ${timeoutMs / 1000}s (handshake timed out)`,
          ),
        ),
      Math.max(1, timeoutMs),
    );
    const onAbort = (): void => fail(abortError(host, opts.signal));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.on('handshake', () => {
      // The key is recorded only now, when the host has proved it holds the matching private key.
      if (!keyToRecord) return;
      const key = keyToRecord;
      keyToRecord = undefined;
      try {
        const again = decide(key, true);
        if (!again.accept) return fail(again.error);
        if (again.recordNew) opts.knownHosts.add(host, key);
      } catch (err) {
        fail(
          new OrchError(
            'INTERNAL',
            `${host.name}: cannot record the host key in ${opts.knownHosts.file}: ${(err as Error).message}`,
            { cause: err },
          ),
        );
      }
    });
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      if (err.level === 'client-authentication') {
        const tried = methods.map((m) => (m.type === 'agent' ? 'ssh-agent keys' : 'public key')).join(', ');
        return fail(
          new AuthFailedError(
            host.name,
            `${where(host)}: authentication failed for user ${host.user} (tried: ${tried})`,
            { cause: err },
          ),
        );
      }
      fail(
        new HostUnreachableError(host.name, `${where(host)}: SSH connection failed: ${err.message}`, {
          cause: err,
        }),
      );
    });
    client.on('close', () => {
      if (hostKeyError) return fail(hostKeyError);
      fail(new HostUnreachableError(host.name, `${where(host)}: connection closed during the SSH handshake`));
    });
    try {
      const known = [...opts.knownHosts.lookup(host), ...opensshEntries(openssh, host)];
      client.connect({
        sock: stream as never,
        username: host.user,
        authHandler: authHandlerFor(methods),
        algorithms: { serverHostKey: hostKeyAlgorithmsFor(known) as never },
        hostVerifier: (key: Buffer): boolean => {
          try {
            const decision = decide(key, opts.acceptNew === true);
            if (!decision.accept) {
              hostKeyError = decision.error;
              return false;
            }
            if (decision.recordNew) keyToRecord = Buffer.from(key);
            return true;
          } catch (err) {
            hostKeyError = new HostUnreachableError(
              host.name,
              `${host.name}: cannot read ${opts.knownHosts.file}: ${(err as Error).message}`,
              { cause: err },
            );
            return false;
          }
        },
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        readyTimeout: 0,
      });
      signPublicKeyDirectly(client);
    } catch (err) {
      fail(
        new OrchError('INTERNAL', `${host.name}: cannot start the SSH client: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  });
}

export function where(host: HostSpec): string {
  return `${host.name} (${host.address}:${host.port})`;
}
