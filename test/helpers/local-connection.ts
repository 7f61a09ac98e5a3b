// A Connection that runs scripts with the local /bin/sh instead of over SSH: for unit tests of the engine and of
// state modules' generated shell. It counts execs like the real transport does.
import { spawn } from 'node:child_process';
import type { HostSpec } from '../../src/inventory/types.js';
import type { Connection, ExecOptions, ExecResult } from '../../src/transport/types.js';

export class LocalConnection implements Connection {
  private execs = 0;
  readonly scripts: string[] = [];
  constructor(readonly host: HostSpec) {}

  runScript(script: string, opts: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    this.scripts.push(script);
    return this.exec('/bin/sh -s', { ...opts, stdin: script });
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.execs++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        opts.onStdout?.(d.toString());
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      // A command that exits before reading its (empty) stdin must not fail the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.on('close', (code, signal) => resolve({ stdout, stderr, code, ...(signal ? { signal } : {}) }));
      child.stdin.end(opts.stdin ?? '');
    });
  }

  stats() {
    return { connections: 1, execs: this.execs };
  }

  async close(): Promise<void> {}
}

/** A HostSpec for tests. */
export function testHost(name = 'local.example.com'): HostSpec {
  return {
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    groups: [],
    vars: {},
    source: { file: 'test' },
  };
}
