// The TCP leg of a connection: a connected socket with Nagle off, or HostUnreachableError. Knows nothing of SSH.
import net from 'node:net';
import { HostUnreachableError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';

/** A connected TCP socket to the host's sshd, or HostUnreachableError (refused, no route, DNS, timeout). */
export function openSocket(host: HostSpec, timeoutMs: number): Promise<net.Socket> {
  const where = `${host.name} (${host.address}:${host.port})`;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: host.address, port: host.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new HostUnreachableError(host.name, `${where}: TCP connect timed out after ${timeoutMs / 1000}s`),
      );
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      // Each exec is a few small packets each way; Nagle would hold them back by up to 40 ms.
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      reject(
        new HostUnreachableError(host.name, `${where}: ${err.code ?? 'error'}: ${err.message}`, {
          cause: err,
        }),
      );
    });
  });
}
