// Running local commands for the lab: argv only (no shell strings), bounded by a timeout, output captured.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OrchError } from '../errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface CommandOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A clean environment for commands the lab runs in hosts: nothing from the controller's environment leaks. */
export const HOST_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
};

/** Run argv and collect its output; never throws for a non-zero exit (code is returned), only for spawn errors. */
export function run(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new OrchError('INTERNAL', 'run: empty argv'));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* the command may exit without reading its input */
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new OrchError('LAB_ERROR', `cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new OrchError('TIMEOUT', `${argv.join(' ')}: no result after ${timeoutMs} ms`));
        return;
      }
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Run argv and throw a LAB_ERROR naming the command and its stderr when it fails. */
export async function runOk(argv: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new OrchError(
      'LAB_ERROR',
      `${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  return r;
}
