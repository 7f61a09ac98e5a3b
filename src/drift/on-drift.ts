// The --on-drift hook: a command the operator gives, run on the controller through /bin/sh -c with the JSON drift
// report on its stdin (and ORCH_DRIFT_EXIT / ORCH_DRIFT_JID in its environment). Bounded by a timeout; its own
// failure is reported, never turned into the drift run's exit code. It runs nothing on hosts.
import { spawn } from 'node:child_process';

export interface HookResult {
  ok: boolean;
  /** Exit status, or null when it died by a signal or timed out. */
  code: number | null;
  timedOut: boolean;
  /** The last lines it wrote to stderr (for the warning). */
  stderr: string;
}

export const HOOK_TIMEOUT_MS = 5 * 60_000;

/** Run the hook command with `input` on stdin; resolves when it ends or after the timeout (then it is killed). */
export function runDriftHook(
  command: string,
  input: string,
  env: Record<string, string>,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<HookResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['pipe', 'inherit', 'pipe'],
      env: { ...process.env, ...env },
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
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      process.stderr.write(d);
    });
    child.stdin.on('error', () => undefined); // a hook that ignores its stdin closes the pipe early
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, code: null, timedOut: false, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        ok: code === 0 && !timedOut,
        code,
        timedOut,
        stderr: stderr.trim().split('\n').slice(-5).join('\n'),
      });
    });
    child.stdin.end(input);
  });
}
