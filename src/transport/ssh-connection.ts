// One established ssh2 connection seen as an orch Connection: exec channels (at most 8 open at once, under sshd's
// default MaxSessions of 10), scripts on stdin, output decoded as UTF-8, per-command timeouts and counters.
// It does not open or verify connections (ssh.ts does) and never puts script text into a command line.
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { CommandTimeoutError, HostUnreachableError, OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { shJoin, viaBinSh } from '../shell/quote.js';
import { openSftp, SftpFiles } from './sftp.js';
import type {
  Connection,
  ConnectionStats,
  ExecOptions,
  ExecResult,
  FileChannel,
  ScriptOptions,
  StreamOptions,
} from './types.js';
import { Limiter } from './limiter.js';
import { CONTROLLER_ARG, WATCHDOG_PRELUDE, watchedCommand } from './watchdog.js';

/**
 * The argv prefix that runs a command as the host's become user, or [] when become does not apply. Both tools get
 * -n (sudo(8), doas(1): "non-interactive", fail rather than prompt) and -u <user>; `requested` true without a
 * become in the inventory means sudo to root.
 */
export function becomeArgv(host: Pick<HostSpec, 'become'>, requested: boolean | undefined): string[] {
  const user = becomeUser(host, requested);
  if (user === undefined) return [];
  const method = host.become?.method ?? 'sudo';
  // sudo(8) reads -u 1001 as a user NAMED 1001; a uid is written #1001. doas(1) takes a name or a uid as it is.
  return [method, '-n', '-u', method === 'sudo' && /^[0-9]+$/.test(user) ? `#${user}` : user];
}

/** The account become runs as (root when the inventory names none), or undefined when become does not apply. */
export function becomeUser(
  host: Pick<HostSpec, 'become'>,
  requested: boolean | undefined,
): string | undefined {
  const become = requested ?? host.become !== undefined;
  return become ? (host.become?.user ?? 'root') : undefined;
}

/**
 * The exec request's command line for a /bin/sh command under `become` (becomeArgv). With the watchdog the login
 * shell execs the decoder and adds its pid (CONTROLLER_ARG), as for a script; the timeout's KILL still reaches the
 * whole session (OpenSSH signals the session's process group), the poller included.
 */
export function execLine(become: string[], command: string, watchdog = false): string {
  if (!watchdog) return shJoin([...become, ...viaBinSh(command)]);
  return `exec ${shJoin([...become, ...viaBinSh(watchedCommand(command), true)])} ${CONTROLLER_ARG}`;
}

/** Exec channels open at once on one connection; sshd refuses the 11th session by default. */
export const MAX_CONCURRENT_EXECS = 8;

/** Sent to the remote process on timeout: TERM for orch scripts (they stop between steps), KILL for commands. */
type StopSignal = 'TERM' | 'KILL';

export class SshConnection implements Connection {
  private readonly limiter = new Limiter(MAX_CONCURRENT_EXECS);
  private ended = false;
  private lost: Error | undefined;
  private readonly closedPromise: Promise<void>;
  private sftp: Promise<SftpFiles> | undefined;

  constructor(
    readonly host: HostSpec,
    private readonly client: Client,
    /** The stream under the client (a socket, or a jump host's channel with its hops): destroyed on close. */
    private readonly sock: { destroy(): void },
    private readonly counters: ConnectionStats,
    private readonly commandTimeoutMs?: number,
  ) {
    this.closedPromise = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('error', (err: Error) => {
      this.lost ??= err;
    });
    client.once('close', () => {
      if (!this.ended) this.lost ??= new Error('connection closed by the remote side');
      this.ended = true;
    });
  }

  /** Run a /bin/sh script sent on stdin (`/bin/sh -s`, under `sudo|doas -n -u <user>` when become applies). */
  runScript(script: string, opts: ScriptOptions = {}): Promise<ExecResult> {
    const { readOnly, ...rest } = opts;
    const become = this.becomeArgv(opts.become);
    // `exec` lets the shell replace the login shell, so a timeout's signal reaches it and one process less runs.
    // The login shell's $PPID (the sshd process of this connection) goes to the watchdog (./watchdog.ts).
    const shell = shJoin([...become, '/bin/sh', '-s']);
    if (readOnly) return this.runChannel(`exec ${shell}`, { ...rest, stdin: script }, 'TERM');
    const command = `exec ${shell} ${CONTROLLER_ARG}`;
    // A script ends at a step boundary on TERM (trapped by the prelude); KILL would leave its step orphaned.
    return this.runChannel(command, { ...rest, stdin: WATCHDOG_PRELUDE + script }, 'TERM');
  }

  /** runScript (with the watchdog prelude) feeding data after a marker, or taking stdout raw (types.ts). */
  runStreamed(script: string, opts: StreamOptions): Promise<ExecResult> {
    const { feed, stdoutSink, ...rest } = opts;
    const shell = shJoin([...this.becomeArgv(opts.become), '/bin/sh', '-s']);
    const command = `exec ${shell} ${CONTROLLER_ARG}`;
    return this.limiter.run(() =>
      this.openAndRun(command, { ...rest, stdin: WATCHDOG_PRELUDE + script }, 'TERM', {
        feed,
        stdoutSink,
      }),
    );
  }

  /**
   * Run one /bin/sh command line (under `sudo|doas -n -u <user>` with become). It reaches /bin/sh encoded
   * (viaBinSh), so the login shell sshd starts it with (csh on FreeBSD up to 13) never parses it.
   */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.runChannel(execLine(this.becomeArgv(opts.become), command, opts.watchdog), opts, 'KILL');
  }

  /** The SFTP channel of this connection: opened on first use, then reused for every transfer of the run. */
  files(): Promise<FileChannel> {
    if (this.sftp) return this.sftp;
    const name = this.host.name;
    if (this.ended)
      return Promise.reject(
        new HostUnreachableError(name, `${name}: connection is closed`, { cause: this.lost }),
      );
    this.counters.sftp = (this.counters.sftp ?? 0) + 1;
    const opened = openSftp(this.client).then(
      (sftp) => new SftpFiles(this.client, sftp),
      (err: Error) => {
        this.sftp = undefined;
        throw new OrchError('TRANSFER_FAILED', `${name}: cannot open an SFTP channel: ${err.message}`, {
          cause: err,
        });
      },
    );
    this.sftp = opened;
    return opened;
  }

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    await this.sftp?.then((f) => f.end()).catch(() => undefined);
    if (!this.ended) {
      this.ended = true;
      this.client.end();
    }
    // A peer that never answers the disconnect must not hold the run: give it a moment, then drop the socket.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closedPromise, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    this.sock.destroy();
  }

  /** The argv prefix of become, or [] without it: `sudo -n -u <user>` or `doas -n -u <user>`. */
  private becomeArgv(requested: boolean | undefined): string[] {
    return becomeArgv(this.host, requested);
  }

  private runChannel(command: string, opts: ExecOptions, stopSignal: StopSignal): Promise<ExecResult> {
    return this.limiter.run(() => this.openAndRun(command, opts, stopSignal));
  }

  private openAndRun(
    command: string,
    opts: ExecOptions,
    stopSignal: StopSignal,
    stream: Pick<StreamOptions, 'feed' | 'stdoutSink'> = {},
  ): Promise<ExecResult> {
    const name = this.host.name;
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.ended) {
        reject(new HostUnreachableError(name, `${name}: connection is closed`, { cause: this.lost }));
        return;
      }
      this.counters.execs++;
      const onOpen = (err: Error | undefined, ch: ClientChannel): void => {
        if (err) {
          const lost = this.lost ?? (this.ended ? err : undefined);
          if (lost)
            reject(
              new HostUnreachableError(name, `${name}: connection lost: ${lost.message}`, { cause: err }),
            );
          else
            reject(
              new OrchError('COMMAND_FAILED', `${name}: cannot open an exec channel: ${err.message}`, {
                cause: err,
              }),
            );
          return;
        }
        this.collect(ch, opts, stopSignal, resolve, reject, stream);
      };
      try {
        this.client.exec(command, onOpen);
      } catch (err) {
        reject(
          new HostUnreachableError(name, `${name}: connection lost: ${(err as Error).message}`, {
            cause: err,
          }),
        );
      }
    });
  }

  private collect(
    ch: ClientChannel,
    opts: ExecOptions,
    stopSignal: StopSignal,
    resolve: (r: ExecResult) => void,
    reject: (e: Error) => void,
    stream: Pick<StreamOptions, 'feed' | 'stdoutSink'> = {},
  ): void {
    const name = this.host.name;
    const { feed, stdoutSink } = stream;
    let fed = false;
    let feedError: Error | undefined;
    // The script has asked for the data (or said it needs none): stdin gets it, then ends.
    const maybeFeed = (): void => {
      if (!feed || fed || settled) return;
      if (stdout.includes(feed.send)) {
        fed = true;
        const src = feed.data();
        src.on('error', (err: Error) => {
          feedError ??= err;
          ch.end();
        });
        src.pipe(ch);
      } else if (stdout.includes(feed.skip)) {
        fed = true;
        ch.end();
      }
    };
    const outDec = new StringDecoder('utf8');
    const errDec = new StringDecoder('utf8');
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let signal: string | undefined;
    let gotExit = false;
    let settled = false;
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => {
            if (settled) return;
            settled = true;
            if (stdoutSink) ch.unpipe(stdoutSink);
            try {
              // OpenSSH honours the signal request; closing the channel alone leaves the process running.
              ch.signal(stopSignal);
            } catch {
              /* channel already gone */
            }
            ch.close();
            reject(
              new CommandTimeoutError(
                name,
                `${name}: command timed out after ${timeoutMs / 1000}s; its channel was closed`,
              ),
            );
          }, timeoutMs)
        : undefined;
    if (stdoutSink) ch.pipe(stdoutSink, { end: false });
    else
      ch.on('data', (chunk: Buffer) => {
        const s = outDec.write(chunk);
        stdout += s;
        if (s) opts.onStdout?.(s);
        maybeFeed();
      });
    ch.stderr.on('data', (chunk: Buffer) => {
      const s = errDec.write(chunk);
      stderr += s;
      if (s) opts.onStderr?.(s);
    });
    ch.on('exit', (c: number | null, sig?: string) => {
      gotExit = true;
      if (typeof c === 'number') code = c;
      else signal = sig ?? undefined;
    });
    ch.on('close', () => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      if (stdoutSink) ch.unpipe(stdoutSink);
      const tailOut = outDec.end();
      const tailErr = errDec.end();
      stdout += tailOut;
      stderr += tailErr;
      if (!gotExit && this.lost) {
        reject(
          new HostUnreachableError(
            name,
            `${name}: connection lost while a command ran: ${this.lost.message}`,
            { cause: this.lost },
          ),
        );
        return;
      }
      if (feedError) {
        reject(
          new OrchError('TRANSFER_FAILED', `${name}: cannot read what was to be sent: ${feedError.message}`, {
            cause: feedError,
          }),
        );
        return;
      }
      const result: ExecResult = { stdout, stderr, code };
      if (signal !== undefined) result.signal = signal;
      resolve(result);
    });
    ch.on('error', () => {
      /* surfaced through 'close' and the connection's own error */
    });
    if (feed) ch.write(opts.stdin ?? '');
    else if (opts.stdin !== undefined) ch.end(opts.stdin);
    else ch.end();
  }
}
