// Opening an SSH connection to one host: TCP with Nagle off, the host key checked against known_hosts before
// any authentication, public-key auth first (no `none` probe), keepalive on. Failures become the transport
// errors of src/errors.ts with the original error kept as `cause`. Running commands is ssh-connection.ts's job.
import { Client } from 'ssh2';
import { AuthFailedError, HostUnreachableError, OrchError, type TransportError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { authHandlerFor, authMethodsFor, signPublicKeyDirectly } from './auth.js';
import { decideHostKey, hostKeyAlgorithmsFor } from './host-key-policy.js';
import type { KnownHosts } from './known-hosts.js';
import { SshConnection } from './ssh-connection.js';
import { abortError, openSocket } from './socket.js';
import type { Connection, ConnectionStats, Connector } from './types.js';

export interface ConnectOptions {
  knownHosts: KnownHosts;
  /** Record unknown host keys (OpenSSH accept-new); a changed key is refused all the same. */
  acceptNew?: boolean;
  /** TCP connect + handshake + auth; default 10000. */
  connectTimeoutMs?: number;
  /** Default timeout of every command on this connection; none when absent. */
  commandTimeoutMs?: number;
  /** Give up connecting (CANCELLED; the socket is dropped) when this aborts; its reason says why. */
  signal?: AbortSignal;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Connect to a host and authenticate; the connection is ready for runScript/exec. */
export function connect(host: HostSpec, opts: ConnectOptions): Promise<Connection> {
  return openConnection(host, opts, { connections: 0, execs: 0 });
}

/** The SSH Connector: every host reached with these options (the signal is the fleet's, per host). */
export function sshConnector(opts: Omit<ConnectOptions, 'signal'>): Connector {
  return { open: (host, counters, signal) => openConnection(host, { ...opts, signal }, counters) };
}

/** Like connect, counting into `counters` (shared with the connection) so a failed attempt still reports. */
export async function openConnection(
  host: HostSpec,
  opts: ConnectOptions,
  counters: ConnectionStats,
): Promise<Connection> {
  const methods = authMethodsFor(host);
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const sock = await openSocket(host, timeoutMs, opts.signal);
  counters.connections++;
  const client = new Client();
  return new Promise<Connection>((resolve, reject) => {
    let settled = false;
    let hostKeyError: TransportError | undefined;
    let keyToRecord: Buffer | undefined;
    const fail = (err: OrchError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      client.end();
      sock.destroy();
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
      Math.max(1, deadline - Date.now()),
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
        const again = decideHostKey(opts.knownHosts, host, key, true);
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
      resolve(new SshConnection(host, client, sock, counters, opts.commandTimeoutMs));
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
      client.connect({
        sock,
        username: host.user,
        authHandler: authHandlerFor(methods),
        algorithms: { serverHostKey: hostKeyAlgorithmsFor(opts.knownHosts.lookup(host)) as never },
        hostVerifier: (key: Buffer): boolean => {
          try {
            const decision = decideHostKey(opts.knownHosts, host, key, opts.acceptNew === true);
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

function where(host: HostSpec): string {
  return `${host.name} (${host.address}:${host.port})`;
}
