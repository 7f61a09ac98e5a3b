// The --on-drift hook: a command the operator gives, run on the controller through /bin/sh -c with the JSON drift
// report on its stdin (and ORCH_DRIFT_EXIT / ORCH_DRIFT_JID in its environment). Bounded by a timeout; its own
// failure is reported, never turned into the drift run's exit code. It runs nothing on hosts. Its environment is
// scrubbed (src/secrets/child-env.ts: no ORCH_* variable, no identity, no URL with a password, no known secret)
// and what it writes to stderr is masked like orch's own output.
import { spawn } from 'node:child_process';
import { scrubbedEnv } from '../secrets/child-env.js';
import { lineRedactor } from '../secrets/lines.js';
import { redactor } from '../secrets/redactor.js';

export interface HookResult {
  ok: boolean;
  /** Exit status, or null when it died by a signal or timed out. */
  code: number | null;
  timedOut: boolean;
  /** The last lines it wrote to stderr (for the warning). */
  stderr: string;
}

export const HOOK_TIMEOUT_MS = 5 * 60_000;

/**
 * Run the hook command with `input` (redacted) on stdin and `env` added to a scrubbed environment; resolves when
 * it ends or after the timeout (then it is killed). Its stdout goes to ours, or to our stderr when orch's stdout
 * carries a report (the --on-event hook).
 */
export function runDriftHook(
  command: string,
  input: string,
  env: Record<string, string>,
  timeoutMs = HOOK_TIMEOUT_MS,
  stdout: 'inherit' | 'stderr' = 'inherit',
): Promise<HookResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['pipe', stdout === 'stderr' ? 2 : 'inherit', 'pipe'],
      env: scrubbedEnv(env),
      detached: true,
    });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The hook's own process group: its children go too, nothing else.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }, timeoutMs);
    // Relayed line by line and masked, so a secret split across two reads is still caught.
    const relay = lineRedactor((line) => {
      stderr = `${stderr}${line}\n`.slice(-4000);
      process.stderr.write(`${line}\n`);
    });
    child.stderr!.on('data', (d: Buffer) => relay.push(d.toString()));
    child.stdin!.on('error', () => undefined); // a hook that ignores its stdin closes the pipe early
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, code: null, timedOut: false, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      relay.end();
      resolve({
        ok: code === 0 && !timedOut,
        code,
        timedOut,
        stderr: stderr.trim().split('\n').slice(-5).join('\n'),
      });
    });
    child.stdin!.end(redactor.redact(input));
  });
}
