// A Connection that runs on this machine's /bin/sh instead of over SSH, and the Connector that hands them out:
// for tests of the run loop (each fake host a directory of its own) and of the shell that states generate. It keeps
// the Connection contract (scripts on stdin, output streamed, exit status, counters) but not SSH's: no become
// (everything runs as the current user) and no watchdog.
import { spawn } from 'node:child_process';
import { copyFile, lstat, mkdir, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { CommandTimeoutError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { abortError } from './socket.js';
import type {
  Connection,
  ConnectionStats,
  Connector,
  ExecOptions,
  ExecResult,
  FileChannel,
  ScriptOptions,
} from './types.js';

export interface LocalConnectionOptions {
  /** Working directory of every command (default: the controller's). */
  cwd?: string;
  /** Variables added to the environment of every command. */
  env?: Record<string, string>;
}

export class LocalConnection implements Connection {
  /** Every script run, in order (tests read what was sent). */
  readonly scripts: string[] = [];
  private closed = false;
  private fileChannel: FileChannel | undefined;

  constructor(
    readonly host: HostSpec,
    private readonly counters: ConnectionStats = { connections: 1, execs: 0 },
    private readonly options: LocalConnectionOptions = {},
  ) {}

  runScript(script: string, opts: ScriptOptions = {}): Promise<ExecResult> {
    this.scripts.push(script);
    const { readOnly: _readOnly, ...rest } = opts;
    return this.exec('/bin/sh -s', { ...rest, stdin: script });
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new Error(`${this.host.name}: connection closed`));
    this.counters.execs++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so a timeout stops the commands the shell started too.
        detached: true,
        ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
        ...(this.options.env ? { env: { ...process.env, ...this.options.env } } : {}),
      });
      let stdout = '';
      let stderr = '';
      const timer =
        opts.timeoutMs !== undefined && opts.timeoutMs > 0
          ? setTimeout(() => {
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                /* already gone */
              }
              reject(
                new CommandTimeoutError(
                  this.host.name,
                  `${this.host.name}: command timed out after ${opts.timeoutMs}ms`,
                ),
              );
            }, opts.timeoutMs)
          : undefined;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        stdout += d;
        opts.onStdout?.(d);
      });
      child.stderr.on('data', (d: string) => {
        stderr += d;
        opts.onStderr?.(d);
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code, ...(signal ? { signal } : {}) });
      });
      // A command that exits without reading its stdin closes the pipe: that is not an error of the run.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? '');
    });
  }

  /** The local file system as the file channel (counted like an SFTP channel, once per connection). */
  async files(): Promise<FileChannel> {
    if (!this.fileChannel) {
      this.counters.sftp = (this.counters.sftp ?? 0) + 1;
      this.fileChannel = localFiles();
    }
    return this.fileChannel;
  }

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Hands out LocalConnections; `optionsFor` gives each host its own directory or environment. */
export function localConnector(
  optionsFor: (host: HostSpec) => LocalConnectionOptions = () => ({}),
): Connector {
  return {
    async open(host, counters, signal) {
      if (signal?.aborted) throw abortError(host, signal);
      counters.connections++;
      return new LocalConnection(host, counters, optionsFor(host));
    },
  };
}

const kindOf = (st: { isFile(): boolean; isDirectory(): boolean }): 'file' | 'dir' | 'other' =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';

const absent = (err: unknown): undefined => {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw err;
};

function localFiles(): FileChannel {
  return {
    mkdir: async (p, mode) => {
      await mkdir(p, { mode });
    },
    lstat: (p) => lstat(p).then((st) => ({ kind: kindOf(st), uid: st.uid, mode: st.mode & 0o7777 }), absent),
    stat: (p) => stat(p).then((st) => ({ kind: kindOf(st), size: st.size }), absent),
    put: async (from, remote, mode) => {
      if ('localFile' in from) await copyFile(from.localFile, remote);
      else await writeFile(remote, from.data, { mode, flag: 'wx' });
    },
    get: (remote, localFile) => copyFile(remote, localFile),
    unlink: (p) => unlink(p),
    rmdir: (p) => rmdir(p),
  };
}
