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
  /**
   * exec only: end the command (TERM, then KILL of its process group) once the connection's sshd process is gone,
   * as after a hard exit of the controller (./watchdog.ts). Costs the host a poller process while it runs.
   */
  watchdog?: boolean;
}

export interface ScriptOptions extends Omit<ExecOptions, 'stdin'> {
  /**
   * The script only reads (facts, checks): it runs without the watchdog prelude (./watchdog.ts), whose relays and
   * poller cost a host about ten processes per script. Cut short by a lost channel or a timeout's TERM, a read leaves
   * nothing half done.
   */
  readOnly?: boolean;
}

/** What runStreamed moves besides the script: data fed in after a marker, raw output taken out. */
export interface StreamOptions extends Omit<ScriptOptions, 'readOnly' | 'onStdout'> {
  /**
   * Stdin stays open after the script. Once stdout has shown the text `send`, `data()` is piped in and stdin ends;
   * once it has shown `skip`, stdin ends with nothing more. The script must be parsed whole before it prints either
   * (so the shell cannot read the data as script): one compound command that ends in `exit`.
   */
  feed?: { send: string; skip: string; data: () => NodeJS.ReadableStream };
  /** Stdout, raw, goes to this stream (never ended here) instead of ExecResult.stdout. */
  stdoutSink?: NodeJS.WritableStream;
}

export interface ConnectionStats {
  connections: number;
  /** Exec channels opened: one per round trip that runs something on the host. */
  execs: number;
  /** SFTP channels opened on the same connection (file transfers); absent or 0 when none. */
  sftp?: number;
}

/**
 * File transfer over a connection, as its login user (never under become): SFTP on SSH, the local file system on
 * LocalConnection. Paths are the host's.
 */
export interface FileChannel {
  /** Make a directory with this mode; fails when anything exists at the path. */
  mkdir(path: string, mode: number): Promise<void>;
  /** Type, owner uid and permission bits of a path, not following a symbolic link; undefined when absent. */
  lstat(path: string): Promise<{ kind: 'file' | 'dir' | 'other'; uid: number; mode: number } | undefined>;
  /** Type of a path, following symbolic links; undefined when absent. */
  stat(path: string): Promise<{ kind: 'file' | 'dir' | 'other'; size: number } | undefined>;
  /** Write a new file (created with this mode, failing when it exists) from a local file or from bytes. */
  put(from: { localFile: string } | { data: Uint8Array }, remote: string, mode: number): Promise<void>;
  /** Copy a file of the host into a local file. */
  get(remote: string, localFile: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
}

export interface Connection {
  readonly host: HostSpec;
  /**
   * Run a /bin/sh script: the remote command is `/bin/sh -s` (under sudo when become applies) and the
   * script travels on stdin, so it never shows in argv and has no length limit.
   */
  runScript(script: string, opts?: ScriptOptions): Promise<ExecResult>;
  /**
   * runScript with data on stdin after the script, or raw stdout (binary file transfer under become, where SFTP,
   * which runs as the login user, cannot reach). SSH connections only.
   */
  runStreamed?(script: string, opts: StreamOptions): Promise<ExecResult>;
  /** Run one /bin/sh command line (parsed by /bin/sh, never by the login shell). Used by `orch run`. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** The connection's file channel (opened on first use, one per connection, counted in stats().sftp). */
  files?(): Promise<FileChannel>;
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
