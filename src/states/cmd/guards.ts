// What cmd.run and cmd.script share: the arguments for cwd, runas, env and the guards (creates, unless, onlyif),
// how a command is started (as another user with su), and the shell evaluating the guards. Guard commands run in
// the check phase too, so they must be read-only: that is the state file author's promise, orch cannot enforce it.
import { z } from 'zod';
import { osPaths } from '../../facts/os/index.js';
import type { Facts } from '../../facts/types.js';
import { shQuote } from '../../shell/quote.js';
import { absolutePath, lastLines } from '../common.js';
import { kvFlag, kvText, probeError, readKv } from '../probe.js';
import type { ApplyStepOutcome } from '../types.js';
import type { StepOutput } from '../../shell/protocol.js';

const oneOrMore = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

export const commandArgs = {
  cwd: absolutePath.optional().describe('absolute directory to run in'),
  runas: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/, 'must be a user name')
    .optional()
    .describe('run as this user (needs root or become)'),
  /** Skip when every one of these commands succeeds. */
  unless: oneOrMore(z.string().min(1)).optional().describe('skip when every one of these commands succeeds'),
  /** Run only when every one of these commands succeeds. */
  onlyif: oneOrMore(z.string().min(1))
    .optional()
    .describe('run only when every one of these commands succeeds'),
  /** Skip when every one of these paths exists. */
  creates: oneOrMore(absolutePath).optional().describe('skip when every one of these paths exists'),
  /** Exported inside the step's script (never on a command line). */
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .optional()
    .describe('environment variables, exported inside the step script (never on a command line)'),
};

export interface CommandArgs {
  name: string;
  cwd?: string;
  runas?: string;
  unless?: string | string[];
  onlyif?: string | string[];
  creates?: string | string[];
  env?: Record<string, string | number | boolean>;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/**
 * Shell that runs `command` (a /bin/sh command string) as `runas`, or as the login user. The command is one quoted
 * word, so a syntax error in it stays inside that shell instead of breaking the whole batch.
 */
export function runCommand(facts: Facts, command: string, runas: string | undefined): string {
  if (runas === undefined) return `/bin/sh -c ${shQuote(command)}`;
  return osPaths(facts).suCommand(runas, command);
}

/** `export K='v'` lines for the env map (inside the script, so values never reach a command line). */
export function envLines(env: CommandArgs['env']): string {
  return Object.entries(env ?? {})
    .map(([k, v]) => `${k}=${shQuote(String(v))}\nexport ${k}`)
    .join('\n');
}

/** Shell setting orch_why to '', creates, unless or onlyif (the first guard that says no). */
export function guardsBody(a: CommandArgs, facts: Facts): string {
  const quiet = (c: string) => `${runCommand(facts, c, a.runas)} >/dev/null 2>&1`;
  const branches: string[] = [];
  const creates = list(a.creates);
  if (creates.length)
    branches.push(`${creates.map((p) => `[ -e ${shQuote(p)} ]`).join(' && ')}; then orch_why=creates`);
  const unless = list(a.unless);
  if (unless.length) branches.push(`${unless.map(quiet).join(' && ')}; then orch_why=unless`);
  const onlyif = list(a.onlyif);
  if (onlyif.length) branches.push(`! { ${onlyif.map(quiet).join(' && ')}; }; then orch_why=onlyif`);
  if (branches.length === 0) return 'orch_why=';
  return `orch_why=\n${branches.map((b, i) => `${i === 0 ? 'if' : 'elif'} ${b}`).join('\n')}\nfi`;
}

/** Why a guard stopped the command, for comments. */
export function guardComment(a: CommandArgs, why: string): string {
  switch (why) {
    case 'creates':
      return `guard says no: creates ${list(a.creates).join(', ')} already exist${list(a.creates).length === 1 ? 's' : ''}`;
    case 'unless':
      return `guard says no: unless ${list(a.unless)
        .map((c) => `\`${c}\``)
        .join(' && ')} succeeded`;
    case 'onlyif':
      return `guard says no: onlyif ${list(a.onlyif)
        .map((c) => `\`${c}\``)
        .join(' && ')} failed`;
    default:
      return `guard says no (${why})`;
  }
}

/** Check body: env, cwd test, optional extra probe, guards; reports kv nocwd or why. Read-only if the guards are. */
export function commandCheckBody(a: CommandArgs, facts: Facts, extra = ''): string {
  const guards = `${extra}${extra ? '\n' : ''}${guardsBody(a, facts)}\norch_kv why "$orch_why"`;
  const body = a.cwd
    ? `if [ ! -d ${shQuote(a.cwd)} ]; then orch_kv nocwd 1\nelse\ncd ${shQuote(a.cwd)}\n${guards}\nfi`
    : guards;
  return `${envLines(a.env)}\n${body}`;
}

/**
 * Apply body: env, cwd, guards re-evaluated on the host, then `run` (a shell condition that runs the command).
 * A failing command fails the step with status 1 and kv rc (never its own status, which could read as "changed").
 */
export function commandApplyBody(a: CommandArgs, facts: Facts, run: string, ranComment: string): string {
  const cwd = a.cwd
    ? `if [ ! -d ${shQuote(a.cwd)} ]; then echo ${shQuote(`cwd ${a.cwd} does not exist`)}; exit 1; fi\ncd ${shQuote(a.cwd)}\n`
    : '';
  return `${envLines(a.env)}
${cwd}${guardsBody(a, facts)}
if [ -n "$orch_why" ]; then orch_kv why "$orch_why"
elif ${run}
then orch_changed=1; orch_kv comment ${shQuote(ranComment)}
else orch_rc=$?; orch_kv rc "$orch_rc"; exit 1
fi`;
}

/** Interpret a command step's apply output. */
export function commandApplyOutcome(a: CommandArgs, out: StepOutput, what: string): ApplyStepOutcome {
  if (out.status === 100) return { result: true, changed: true, comment: out.kv.comment ?? `${what} ran` };
  if (out.status === 0) return { result: true, changed: false, comment: guardComment(a, out.kv.why ?? '') };
  const tail = out.text ? `:\n${lastLines(out.text, 10)}` : '';
  if (out.kv.rc !== undefined)
    return { result: false, changed: false, comment: `${what} failed (exit status ${out.kv.rc})${tail}` };
  const status = out.status === null ? 'the script ended early' : `status ${out.status}`;
  return { result: false, changed: false, comment: `${what} could not run (${status})${tail}` };
}

/** What the check prints: why (the guard that held, empty when none), nocwd, and syntax from cmd.script. */
const checkKv = z.object({ why: kvText.optional(), nocwd: kvFlag, syntax: kvText.optional() });

/** Interpret a command step's check output (extra: kv syntax from cmd.script). */
export function commandCheckOutcome(a: CommandArgs, out: StepOutput, wouldRun: string) {
  if (out.status !== 0)
    return { status: 'error' as const, comment: `could not evaluate the guards: ${out.text}` };
  const read = readKv(checkKv, out);
  if (!read.ok) return probeError(a.name, read.error);
  const kv = read.kv;
  if (kv.syntax !== undefined)
    return { status: 'error' as const, comment: `script has a syntax error: ${kv.syntax.trim()}` };
  if (kv.nocwd === '1') {
    return { status: 'unknown' as const, comment: `cwd ${a.cwd} does not exist (yet); guards not evaluated` };
  }
  if (kv.why) return { status: 'clean' as const, comment: guardComment(a, kv.why) };
  return { status: 'change' as const, comment: wouldRun };
}
