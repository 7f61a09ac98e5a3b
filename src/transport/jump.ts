// The byte stream to a host's sshd: a TCP socket, or through jump hosts (ProxyJump) a direct-tcpip channel that
// the last hop opens to the next host (ssh2's forwardOut, as `ssh -J` does). Each hop is a full SSH connection of
// its own (host key checked like any target's, its own credentials) and counts as one connection in the stats.
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { HostUnreachableError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { authMethodsFor, type AuthOptions } from './auth.js';
import { sshHandshake, where, type HandshakeOptions } from './handshake.js';
import { abortError, openSocket } from './socket.js';
import type { ConnectionStats } from './types.js';

/** An open stream to a host's sshd; destroy() also ends the jump connections under it. */
export interface HostPath {
  stream: Duplex;
  /** The jump hosts' connections, first hop first (empty for a direct connection). */
  hops: Client[];
  destroy(): void;
}

/** Open the stream to `host`: directly, or hop by hop through `host.jumps`. */
export async function openPath(
  host: HostSpec,
  opts: HandshakeOptions & AuthOptions,
  counters: ConnectionStats,
  timeoutMs: number,
): Promise<HostPath> {
  const jumps = host.jumps ?? [];
  const first = jumps[0] ?? host;
  const sock = await openSocket(first, timeoutMs, opts.signal);
  if (jumps.length === 0) {
    counters.connections++;
    return { stream: sock, hops: [], destroy: () => sock.destroy() };
  }
  const hops: Client[] = [];
  const streams: Duplex[] = [sock];
  const destroy = (): void => {
    for (const s of [...streams].reverse()) s.destroy();
    for (const c of [...hops].reverse()) c.end();
  };
  try {
    let stream: Duplex = sock;
    for (const [i, hop] of jumps.entries()) {
      counters.connections++;
      const methods = await authMethodsFor(hop, opts);
      const client = await sshHandshake(hop, stream, methods, opts, timeoutMs);
      hops.push(client);
      const next = jumps[i + 1] ?? host;
      stream = await forward(client, hop, next, timeoutMs, opts.signal);
      streams.push(stream);
    }
    counters.connections++;
    return { stream, hops, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** A channel from `hop` to `next`'s sshd, or HostUnreachableError saying which hop could not reach it. */
function forward(
  client: Client,
  hop: HostSpec,
  next: HostSpec,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, ch?: Duplex): void => {
      if (done) {
        ch?.destroy();
        return;
      }
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err || !ch) reject(err);
      else resolve(ch);
    };
    const timer = setTimeout(
      () =>
        finish(
          new HostUnreachableError(
            next.name,
            `${where(next)}: jump host ${hop.name} did not open a channel to it within ${timeoutMs / 1000}s`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = (): void => finish(abortError(next, signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // The origin is informational for sshd's logs; OpenSSH's ssh -J sends 127.0.0.1 port 0 as well.
      client.forwardOut('127.0.0.1', 0, next.address, next.port, (err, ch) => {
        if (err)
          finish(
            new HostUnreachableError(
              next.name,
              `${where(next)}: jump host ${hop.name} could not connect to it: ${err.message}`,
              { cause: err },
            ),
          );
        else finish(undefined, ch);
      });
    } catch (err) {
      finish(
        new HostUnreachableError(next.name, `${where(next)}: jump host ${hop.name} connection lost`, {
          cause: err,
        }),
      );
    }
  });
}
