// The contract between orch and a host: a Connection runs commands on a connected host, a Connector opens one.
// Implemented over ssh2 (ssh.ts, ssh-connection.ts) and on the local /bin/sh (local.ts, for tests).
import type { HostSpec } from '../inventory/types.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the remote process died by a signal. */
  code: number | null;
  signal?: string;
}

export interface ExecOptions {
  /** Bytes for the remote process's stdin. */
  stdin?: string | Buffer;
  /** Kill the channel and fail with a timeout error after this long. */
  timeoutMs?: number;
  /** Run under the host's become method (sudo or doas). Defaults to the host's setting. */
  become?: boolean;
  /** Called with output as it arrives, for live progress. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface ScriptOptions extends Omit<ExecOptions, 'stdin'> {
  /**
   * The script only reads (facts, checks): it runs without the watchdog prelude (./watchdog.ts), whose relays and
   * poller cost a host about ten processes per script. Cut short by a lost channel or a timeout's TERM, a read leaves
   * nothing half done.
   */
  readOnly?: boolean;
}

export interface ConnectionStats {
  connections: number;
  /** Exec channels opened: one per round trip that runs something on the host. */
  execs: number;
}

export interface Connection {
  readonly host: HostSpec;
  /**
   * Run a /bin/sh script: the remote command is `/bin/sh -s` (under sudo when become applies) and the
   * script travels on stdin, so it never shows in argv and has no length limit.
   */
  runScript(script: string, opts?: ScriptOptions): Promise<ExecResult>;
  /** Run one /bin/sh command line (parsed by /bin/sh, never by the login shell). Used by `orch run`. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  stats(): ConnectionStats;
  close(): Promise<void>;
}

/** How the fleet reaches hosts: SSH (ssh.ts sshConnector) or this machine's shell (local.ts localConnector). */
export interface Connector {
  /**
   * Connect to `host`, counting connections and execs into `counters` (shared with the connection, so a failed
   * attempt still reports); gives up with CANCELLED when `signal` aborts. Failures are the transport errors.
   */
  open(host: HostSpec, counters: ConnectionStats, signal?: AbortSignal): Promise<Connection>;
}
