// The recorded answers of the controller-alone simulation: what one real lab host printed for each exec of a bench
// run (the facts probe, the check batch, ...), with the batch's nonce replaced by a placeholder so the answers
// can be replayed to any run. Pure data and matching; no I/O.
import { createHash } from 'node:crypto';

export const NONCE_PLACEHOLDER = '@ORCH_NONCE@';

export interface RecordedExec {
  /** What the exec is: `batch` for nonce-framed batches, else `script:<sha256 of stdin>` (e.g. the facts probe). */
  kind: string;
  command: string;
  stdout: string;
  stderr: string;
  code: number;
}

export interface Recording {
  recordedAt: string;
  /** The orch commit and the command the recording was made with. */
  orch: string;
  command: string;
  /** The execs of one connection, in the order they arrived. */
  execs: RecordedExec[];
}

/** The nonce a batch script declares, if any. */
export function nonceOf(script: string): string | undefined {
  return /^ORCH_NONCE=([0-9a-f]+)$/m.exec(script)?.[1];
}

export function execKind(script: string): string {
  if (nonceOf(script) !== undefined) return 'batch';
  return `script:${createHash('sha256').update(script).digest('hex').slice(0, 16)}`;
}

/** Output with its nonce swapped for the placeholder (recording) or the placeholder for a nonce (replay). */
export function swapNonce(text: string, from: string | undefined, to: string | undefined): string {
  if (from === undefined || to === undefined) return text;
  return text.split(from).join(to);
}

/** The answer to the `nth` exec of this kind on one connection (the last recorded one of the kind when past it). */
export function answerFor(rec: Recording, kind: string, nth: number): RecordedExec | undefined {
  const same = rec.execs.filter((e) => e.kind === kind);
  return same[Math.min(nth, same.length - 1)];
}
