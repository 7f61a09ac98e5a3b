// The first SIGINT/SIGTERM of a recorded run asks it to wind down: no new host or phase starts, each host's
// current remote step finishes, the job is recorded as interrupted with what the hosts confirmed, its locks are
// released, and the process exits 130 / 143. A second signal exits at once, after the quick synchronous
// bookkeeping the running jobs registered (mark interrupted, free locks). One process-wide state: signals are.
import { EXIT } from '../errors/codes.js';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const CODES: Record<InterruptSignal, number> = { SIGINT: EXIT.INTERRUPTED, SIGTERM: EXIT.TERMINATED };

/** Longest the second signal waits for bookkeeping that is not synchronous (a PostgreSQL store). */
const HARD_EXIT_GRACE_MS = 500;

let received: InterruptSignal | undefined;
let installed: ((s: InterruptSignal) => void) | undefined;
const hardExitHooks = new Set<() => unknown>();
const listeners = new Set<(s: InterruptSignal) => void>();

/** The signal that asked this process to stop, if any. */
export function interruptedBy(): InterruptSignal | undefined {
  return received;
}

/** 130 for SIGINT, 143 for SIGTERM. */
export function interruptExitCode(s: InterruptSignal): number {
  return CODES[s];
}

/** Called once, on the first signal (at once when one already came). */
export function onInterrupt(fn: (s: InterruptSignal) => void): () => void {
  if (received) fn(received);
  else listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Bookkeeping to try when a second signal exits at once; keep it short and, where possible, synchronous. */
export function onHardExit(fn: () => unknown): () => void {
  hardExitHooks.add(fn);
  return () => hardExitHooks.delete(fn);
}

export interface InstallOptions {
  /** Where the "stopping" notice goes (default stderr). */
  notice?: (line: string) => void;
  /** For tests: what exiting means (default process.exit). */
  exit?: (code: number) => void;
}

/** Take over SIGINT and SIGTERM for a verb that runs a job (idempotent). */
export function installInterruptHandlers(opts: InstallOptions = {}): void {
  if (installed) return;
  const notice = opts.notice ?? ((l: string) => process.stderr.write(`${l}\n`));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const handler = (signal: InterruptSignal): void => {
    if (!received) {
      received = signal;
      notice(
        `orch: ${signal}: stopping; each host's current step finishes, no new host or step starts ` +
          `(${signal === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to exit at once)`,
      );
      for (const fn of [...listeners]) safely(fn, signal);
      listeners.clear();
      return;
    }
    notice(`orch: ${signal} again: exiting now; the remote steps running now finish on their own`);
    const pending: Promise<unknown>[] = [];
    for (const fn of [...hardExitHooks]) {
      try {
        const r = fn();
        if (r instanceof Promise) pending.push(r.catch(() => undefined));
      } catch {
        /* exiting anyway */
      }
    }
    const code = CODES[received];
    if (pending.length === 0) return exit(code);
    const timer = setTimeout(() => exit(code), HARD_EXIT_GRACE_MS);
    void Promise.all(pending).then(() => {
      clearTimeout(timer);
      exit(code);
    });
  };
  installed = handler;
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** For tests only: give the signals back to their default handling. */
export function uninstallInterruptHandlers(): void {
  if (!installed) return;
  process.off('SIGINT', installed);
  process.off('SIGTERM', installed);
  installed = undefined;
}

/** For tests only: forget the signal received and every hook. */
export function resetInterruptForTests(): void {
  received = undefined;
  hardExitHooks.clear();
  listeners.clear();
}

/** For tests only: act as if the signal had arrived (goes through the same path once installed). */
export function simulateInterrupt(signal: InterruptSignal): void {
  process.emit(signal, signal);
}

function safely(fn: (s: InterruptSignal) => void, s: InterruptSignal): void {
  try {
    fn(s);
  } catch {
    /* a broken listener must not keep the others from stopping */
  }
}
