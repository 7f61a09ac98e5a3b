// The contract between orch and a connected host. Implemented over ssh2; faked in unit tests.
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
  /** Run under the host's become method (sudo). Defaults to the host's setting. */
  become?: boolean;
  /** Called with output as it arrives, for live progress. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
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
  runScript(script: string, opts?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult>;
  /** Run one command line as given (the remote login shell parses it). Used by `orch run`. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  stats(): ConnectionStats;
  close(): Promise<void>;
}
