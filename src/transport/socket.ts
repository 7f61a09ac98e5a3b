// The TCP leg of a connection: a connected socket with Nagle off, or HostUnreachableError. Knows nothing of SSH.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { HostUnreachableError, OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';

/** A connected TCP socket to the host's sshd, or HostUnreachableError (refused, no route, DNS, timeout). */
export function openSocket(host: HostSpec, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  const where = `${host.name} (${host.address}:${host.port})`;
  const refused = labRefusal(host, () => existsSync(`/sys/class/net/${LAB_BRIDGE}`));
  if (refused) return Promise.reject(new HostUnreachableError(host.name, `${where}: ${refused}`));
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: host.address, port: host.port });
    const onAbort = (): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(abortError(host, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(
        new HostUnreachableError(host.name, `${where}: TCP connect timed out after ${timeoutMs / 1000}s`),
      );
    }, timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('error');
      // Each exec is a few small packets each way; Nagle would hold them back by up to 40 ms.
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(
        new HostUnreachableError(host.name, `${where}: ${err.code ?? 'error'}: ${err.message}`, {
          cause: err,
        }),
      );
    });
  });
}

/** CANCELLED with the abort's reason: the run gave up on this host before anything ran on it. */
export function abortError(host: HostSpec, signal: AbortSignal | undefined): OrchError {
  const why = typeof signal?.reason === 'string' ? signal.reason : 'cancelled';
  return new OrchError('CANCELLED', `${host.name}: not run: ${why} while it was connecting`);
}

/** The lab's private bridge and address range (src/lab/paths.ts); kept here so transport does not load the lab. */
const LAB_BRIDGE = 'orchlab0';

/**
 * Why a lab host must not be dialled now, or undefined. Only lab hosts (HostSpec.lab: marked `lab: true` or logging in
 * with the lab's key) are checked:
 * without the lab's bridge their addresses would follow the default route off this machine. Any other host is dialled
 * normally whatever its address, so a site whose own network uses 10.213.0.0/16 is not refused.
 */
export function labRefusal(
  host: Pick<HostSpec, 'lab' | 'address'>,
  bridgeUp: () => boolean,
): string | undefined {
  if (host.lab !== true) return undefined;
  if (!isLabAddress(host.address))
    return 'a lab host (lab: true, or the lab key), but its address is not in the lab range 10.213.0.0/16';
  if (!bridgeUp()) return 'a lab host, but the lab is down (orch lab up)';
  return undefined;
}

/** Whether an address is in the lab's range 10.213.0.0/16. */
export function isLabAddress(address: string): boolean {
  return /^10\.213\.\d{1,3}\.\d{1,3}$/.test(address);
}
