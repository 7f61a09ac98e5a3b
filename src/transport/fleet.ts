// Running one piece of work on many hosts: one connection per host for the whole piece of work, hosts in
// parallel up to a limit, each host's failure kept to that host. Results come back in input order.
// What the work does on a host is the caller's business; this module only opens (through a Connector: SSH unless
// told otherwise), counts and closes.
import { CommandTimeoutError, OrchError } from '../errors.js';
import type { ProjectConfig } from '../config/project.js';
import type { HostSpec } from '../inventory/types.js';
import { KnownHosts } from './known-hosts.js';
import { Limiter } from './limiter.js';
import { sshConnector } from './ssh.js';
import type { Connection, ConnectionStats, Connector } from './types.js';

/** How the fleet works through hosts, whatever reaches them. */
export interface FleetLimits {
  parallel: number;
  /** Longest a host's whole piece of work may take, connecting included (--timeout of apply and drift). */
  hostTimeoutMs?: number;
  /** Extra attempts at opening a connection that failed to open (refused, no answer); never for auth or host
   * key failures, never once anything ran on the host. */
  retries?: number;
}

/** Pause before retry n (0-based): 1 s, 2 s, 4 s, ... at most 30 s. */
export function retryDelayMs(n: number): number {
  return Math.min(1000 * 2 ** n, 30_000);
}

/** Reaching hosts over SSH. */
export interface SshFleetOptions {
  knownHostsFile: string;
  /** OpenSSH known_hosts files trusted as well, read only (orch.yaml `openssh_known_hosts`). */
  opensshKnownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

/** The fleet's limits, and either the SSH options or a Connector of the caller's (the local shell in tests). */
export type FleetOptions = FleetLimits & (SshFleetOptions | { connector: Connector });

/** The Connector the options name: theirs, or SSH with one known_hosts for the whole run. */
export function connectorFor(opts: FleetOptions): Connector {
  if ('connector' in opts) return opts.connector;
  return sshConnector({
    knownHosts: new KnownHosts(opts.knownHostsFile),
    opensshKnownHosts: (opts.opensshKnownHostsFiles ?? []).map((f) => new KnownHosts(f)),
    acceptNew: opts.acceptNewHostKeys === true,
    connectTimeoutMs: opts.connectTimeoutMs,
    commandTimeoutMs: opts.commandTimeoutMs,
  });
}

export type HostOutcome<T> =
  | { host: HostSpec; ok: true; value: T; stats: ConnectionStats; ms: number }
  | { host: HostSpec; ok: false; error: OrchError; stats: ConnectionStats; ms: number };

/** Handed to the work with its connection, for waiting on the other hosts: inside pause() the host gives up its
 * place among the `parallel` hosts worked on (so the hosts after it can get as far) and the time does not count
 * against --timeout (a host waiting for the others is not slow itself). */
export interface HostClock {
  pause<R>(p: Promise<R>): Promise<R>;
}

export interface FleetEvents<T> {
  onStart?(h: HostSpec): void;
  onDone?(o: HostOutcome<T>): void;
  /** Asked before a host is connected: a reason means the run is stopping and this host is left alone. */
  stopReason?(): string | undefined;
}

/** Run `work` on every host over its own connection, at most `opts.parallel` hosts at once. */
export async function onEachHost<T>(
  hosts: HostSpec[],
  opts: FleetOptions,
  work: (conn: Connection, clock: HostClock) => Promise<T>,
  events?: FleetEvents<T>,
): Promise<HostOutcome<T>[]> {
  const connector = connectorFor(opts);
  const limiter = new Limiter(Math.max(1, Math.floor(opts.parallel) || 1));
  return Promise.all(
    hosts.map((host) => limiter.run(() => oneHost(host, connector, opts, work, events, limiter))),
  );
}

async function oneHost<T>(
  host: HostSpec,
  connector: Connector,
  opts: FleetLimits,
  work: (conn: Connection, clock: HostClock) => Promise<T>,
  events: FleetEvents<T> | undefined,
  limiter: Limiter,
): Promise<HostOutcome<T>> {
  const started = Date.now();
  const counters: ConnectionStats = { connections: 0, execs: 0 };
  const stop = events?.stopReason?.();
  if (stop !== undefined) {
    // Never connected: nothing ran on this host.
    const outcome: HostOutcome<T> = {
      host,
      ok: false,
      error: new OrchError('CANCELLED', `${host.name}: not run: ${stop} before it was started`),
      stats: { ...counters },
      ms: 0,
    };
    safely(() => events?.onDone?.(outcome));
    return outcome;
  }
  safely(() => events?.onStart?.(host));
  let outcome: HostOutcome<T>;
  let conn: Connection | undefined;
  const abort = new AbortController();
  const body = async (): Promise<T> => {
    const poll = events?.stopReason
      ? setInterval(() => {
          const why = events.stopReason?.();
          if (why !== undefined) abort.abort(why);
        }, 100)
      : undefined;
    try {
      // Nothing runs on a host while it connects: a stopping run need not wait for a slow handshake.
      for (let attempt = 0; ; attempt++) {
        try {
          conn = await connector.open(host, counters, abort.signal);
          break;
        } catch (err) {
          // Only a connection that failed to open is tried again (auth and host keys will not change by waiting).
          const again =
            attempt < (opts.retries ?? 0) &&
            err instanceof OrchError &&
            err.code === 'HOST_UNREACHABLE' &&
            !abort.signal.aborted;
          if (!again) throw err;
          await pauseUnlessAborted(retryDelayMs(attempt), abort.signal);
        }
      }
    } finally {
      clearInterval(poll);
    }
    if (abort.signal.aborted) throw new OrchError('CANCELLED', `${host.name}: given up`);
    return work(conn, clock);
  };
  let deadlineTimer: NodeJS.Timeout | undefined;
  const hostTimeout = opts.hostTimeoutMs;
  let remaining = hostTimeout ?? 0;
  let armedAt = 0;
  let expire: () => void = () => undefined;
  const arm = (): void => {
    armedAt = Date.now();
    deadlineTimer = setTimeout(expire, Math.max(1, remaining));
  };
  const deadline =
    hostTimeout !== undefined && hostTimeout > 0
      ? new Promise<never>((_, reject) => {
          expire = () => {
            reject(
              new CommandTimeoutError(
                host.name,
                `${host.name}: timed out after ${hostTimeout / 1000}s (--timeout); the connection was closed, ` +
                  'so its remote step finishes on its own and nothing after it runs',
              ),
            );
            abort.abort('timed out');
          };
          arm();
        })
      : undefined;
  let paused = 0;
  const clock: HostClock = {
    pause: async (p) => {
      if (deadline && paused++ === 0) {
        clearTimeout(deadlineTimer);
        remaining -= Date.now() - armedAt;
      }
      try {
        return await limiter.outside(p);
      } finally {
        if (deadline && --paused === 0) arm();
      }
    },
  };
  try {
    const value = await (deadline ? Promise.race([body(), deadline]) : body());
    outcome = { host, ok: true, value, stats: { ...counters }, ms: Date.now() - started };
  } catch (err) {
    outcome = {
      host,
      ok: false,
      error: asOrchError(host, err),
      stats: { ...counters },
      ms: Date.now() - started,
    };
  } finally {
    clearTimeout(deadlineTimer);
    // Also the connection of a host that timed out mid-work: its remote script stops at its next step.
    await (conn as Connection | undefined)?.close().catch(() => undefined);
  }
  safely(() => events?.onDone?.(outcome));
  return outcome;
}

function pauseUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Fleet options from the project (known_hosts file, parallelism, orch.yaml `connect_timeout` in seconds). */
export function fleetOptionsFor(
  project: ProjectConfig,
  o: { acceptNewHostKeys?: boolean; timeoutMs?: number; hostTimeoutMs?: number; retries?: number } = {},
): FleetLimits & SshFleetOptions {
  const opts: FleetLimits & SshFleetOptions = {
    knownHostsFile: project.knownHostsFile,
    parallel: project.parallel,
  };
  if (project.opensshKnownHostsFiles?.length) opts.opensshKnownHostsFiles = project.opensshKnownHostsFiles;
  const accept = o.acceptNewHostKeys ?? project.settings.accept_new_hostkeys === true;
  if (accept) opts.acceptNewHostKeys = true;
  const connectTimeout = project.settings.connect_timeout;
  if (typeof connectTimeout === 'number' && connectTimeout > 0) opts.connectTimeoutMs = connectTimeout * 1000;
  if (o.timeoutMs !== undefined && o.timeoutMs > 0) opts.commandTimeoutMs = o.timeoutMs;
  if (o.hostTimeoutMs !== undefined && o.hostTimeoutMs > 0) opts.hostTimeoutMs = o.hostTimeoutMs;
  if (o.retries !== undefined && o.retries > 0) opts.retries = Math.floor(o.retries);
  return opts;
}

function asOrchError(host: HostSpec, err: unknown): OrchError {
  if (err instanceof OrchError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OrchError('INTERNAL', `${host.name}: ${message}`, { cause: err });
}

// A broken progress printer must not turn into a host failure or stop the fleet.
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* ignored on purpose */
  }
}
