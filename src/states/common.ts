// Pieces shared by state modules: argument schemas, the default apply interpretation, small shell idioms.
import { z } from 'zod';
import { OS_ACCOUNT_ID, OS_ACCOUNT_NAME } from '../facts/os/index.js';
import { shQuote } from '../shell/quote.js';
import type { StepOutput } from '../shell/protocol.js';
import type { ApplyStepOutcome } from './types.js';

/** Octal file mode as a quoted string ('0644'); numbers are refused because YAML would read 0644 as 644. */
export const modeSchema = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, "mode must be a quoted octal string such as '0644'")
  .transform((m) => m.replace(/^0(?=[0-7]{4})/, '').padStart(4, '0'));

export { OS_ACCOUNT_ID, OS_ACCOUNT_NAME };

/** True for an owner or group operand: a portable name or a numeric id; never anything that reads as an option. */
export function isOsAccount(v: string): boolean {
  return OS_ACCOUNT_NAME.test(v) || (OS_ACCOUNT_ID.test(v) && Number(v) < 4294967295);
}

/**
 * The owner (`user`) or `group` of a state: a user or group name, or a numeric id (a YAML number is accepted and
 * kept as its decimal text). Such values reach chown/chgrp/id/runuser as operands, so `-R` or `--reference=...`
 * must never get through.
 */
export const osAccount = z
  .union([z.string(), z.number().int().min(0)])
  .transform(String)
  .pipe(
    z
      .string()
      .refine(
        isOsAccount,
        'must be a user or group name (letters, digits, _ . -, starting with a letter or _, at most 32) or a numeric id',
      ),
  );

/**
 * Arguments that, in every state, name the owner or group of what the state manages. compile.ts checks them for
 * every state function whatever its own schema says, so no module can pass an option-like owner to chown.
 */
export const OS_ACCOUNT_ARGS = ['user', 'group'] as const;

/** The first owner/group argument that is not a user or group name or id, or undefined. */
export function badOsAccountArg(args: Record<string, unknown>): { key: string; value: string } | undefined {
  for (const key of OS_ACCOUNT_ARGS) {
    const v = args[key];
    if (v === undefined) continue;
    const text = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
    if (!isOsAccount(text)) return { key, value: text };
  }
  return undefined;
}

/** A string with no NUL byte: the shells drop NUL from script text, so `/e\0tc` would act on `/etc`. */
export const noNul = z.string().refine((s) => !s.includes('\0'), 'must not contain a NUL byte');

export const absolutePath = noNul.pipe(z.string().regex(/^\//, 'must be an absolute path'));

/** Default reading of an apply step: status 100 = changed, 0 = already right, anything else = failed. */
export function defaultApplyOutcome(out: StepOutput, what: string): ApplyStepOutcome {
  if (out.status === 100)
    return { result: true, changed: true, comment: out.kv.comment ?? `${what} changed` };
  if (out.status === 0)
    return {
      result: true,
      changed: false,
      comment: out.kv.comment ?? `${what} already in the desired state`,
    };
  if (out.status === 'skip')
    return { result: false, changed: false, comment: `not run: ${out.kv.skipped ?? 'guard'}` };
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
