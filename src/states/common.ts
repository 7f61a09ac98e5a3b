// Pieces shared by state modules: argument schemas, the default apply interpretation, small shell idioms.
import { z } from 'zod';
import { shQuote } from '../shell/quote.js';
import type { StepOutput } from '../engine/protocol.js';
import type { ApplyOutcome } from './types.js';

/** Octal file mode as a quoted string ('0644'); numbers are refused because YAML would read 0644 as 644. */
export const modeSchema = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, "mode must be a quoted octal string such as '0644'")
  .transform((m) => m.replace(/^0(?=[0-7]{4})/, '').padStart(4, '0'));

/** A string with no NUL byte: the shells drop NUL from script text, so `/e\0tc` would act on `/etc`. */
export const noNul = z.string().refine((s) => !s.includes('\0'), 'must not contain a NUL byte');

export const absolutePath = noNul.pipe(z.string().regex(/^\//, 'must be an absolute path'));

/** Default reading of an apply step: status 100 = changed, 0 = already right, anything else = failed. */
export function defaultApplyOutcome(out: StepOutput, what: string): ApplyOutcome {
  if (out.status === 100) return { result: true, changed: true, comment: out.kv.comment ?? `${what} changed` };
  if (out.status === 0) return { result: true, changed: false, comment: out.kv.comment ?? `${what} already in the desired state` };
  if (out.status === 'skip') return { result: false, changed: false, comment: `not run: ${out.kv.skipped ?? 'guard'}` };
  const detail = out.text ? `: ${lastLines(out.text, 6)}` : '';
  const status = out.status === null ? 'the script ended early' : `exit status ${out.status}`;
  return { result: false, changed: false, comment: `${what} failed (${status})${detail}` };
}

/** The last n lines of command output, for failure comments. */
export function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

/** Normalize a mode as stat prints it (644, 0644, 600) to four digits. */
export function normMode(mode: string | undefined): string | undefined {
  return mode === undefined ? undefined : mode.padStart(4, '0');
}

/**
 * Shell running `command` and failing the step with status 1 and a message when it fails. Use it for every tool a
 * step calls: a tool's own exit status 100 (apt-get's error code) would otherwise read as "changed".
 */
export function mustRun(command: string, what: string): string {
  return `${command} || { orch_rc=$?; echo ${shQuote(`${what} failed`)}" (exit status $orch_rc)"; exit 1; }`;
}
