// Opening an SSH connection to one host: the stream to its sshd (TCP with Nagle off, or through jump hosts:
// jump.ts), then the handshake (handshake.ts: host key checked before any authentication, public-key auth).
// Running commands is ssh-connection.ts's job.
import { OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { authMethodsFor } from './auth.js';
import { sshHandshake } from './handshake.js';
import { openPath } from './jump.js';
import type { KnownHosts } from './known-hosts.js';
import type { PassphraseSource } from './passphrase.js';
import { SshConnection } from './ssh-connection.js';
import type { Connection, ConnectionStats, Connector } from './types.js';

export interface ConnectOptions {
  knownHosts: KnownHosts;
  /** OpenSSH known_hosts files trusted as well (orch.yaml `openssh_known_hosts`); never written. */
  opensshKnownHosts?: readonly KnownHosts[];
  /** Record unknown host keys (OpenSSH accept-new); a changed key is refused all the same. */
  acceptNew?: boolean;
  /** TCP connect + handshake + auth, per hop; default: the host's ssh_config ConnectTimeout, else 10000. */
  connectTimeoutMs?: number;
  /** Default timeout of every command on this connection; none when absent. */
  commandTimeoutMs?: number;
  /** Give up connecting (CANCELLED; the socket is dropped) when this aborts; its reason says why. */
  signal?: AbortSignal;
  /** Where passphrases of protected key files come from; the terminal by default. */
  passphrase?: PassphraseSource;
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
  if (host.sshUnsupported) throw new OrchError('SSH_CONFIG_ERROR', `${host.name}: ${host.sshUnsupported}`);
  const methods = await authMethodsFor(host, opts);
  const timeoutMs = connectTimeoutFor(host, opts);
  const path = await openPath(host, opts, counters, timeoutMs);
  const client = await sshHandshake(host, path.stream, methods, opts, timeoutMs).catch((err: unknown) => {
    path.destroy();
    throw err;
  });
  return new SshConnection(host, client, path, counters, opts.commandTimeoutMs);
}

/** orch.yaml connect_timeout wins, then the host's ssh_config ConnectTimeout, then the default. */
export function connectTimeoutFor(host: HostSpec, opts: Pick<ConnectOptions, 'connectTimeoutMs'>): number {
  return opts.connectTimeoutMs ?? host.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
}
