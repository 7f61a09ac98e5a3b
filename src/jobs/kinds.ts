// The registry of job kinds: every verb a job can be recorded as and a worker can run. Adding a kind (say
// `orch pg switchover`) is one module exporting a JobKind and one entry here.
import { OrchError } from '../errors.js';
import { applyKind } from './apply-verb.js';
import { driftKind } from './drift-verb.js';
import type { AnyJobKind } from './kind.js';
import { pgFollowKind, pgPromoteKind, pgRejoinKind, pgSwitchoverKind } from './pg-lifecycle.js';
import { runKind } from './run-verb.js';

export const JOB_KINDS: readonly AnyJobKind[] = [
  applyKind,
  runKind,
  driftKind,
  pgSwitchoverKind,
  pgPromoteKind,
  pgFollowKind,
  pgRejoinKind,
] as AnyJobKind[];

/** The kind of a verb, or undefined for a verb no kind claims (a row written by a newer orch). */
export function jobKind(verb: string): AnyJobKind | undefined {
  return JOB_KINDS.find((k) => k.verb === verb);
}

/** A job's stored arguments checked against its kind's schema; BAD_INPUT naming the first bad field otherwise. */
export function jobArgs(kind: AnyJobKind, args: Record<string, unknown>): unknown {
  const parsed = kind.args.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `args.${issue.path.join('.')}` : 'args';
  throw new OrchError(
    'BAD_INPUT',
    `stored arguments of this ${kind.verb} job do not fit its kind: ${where}: ${issue?.message ?? 'invalid'}`,
  );
}

/** The kind of a verb, or BAD_INPUT saying this orch cannot run it. */
export function requireJobKind(verb: string): AnyJobKind {
  const kind = jobKind(verb);
  if (!kind) {
    const known = JOB_KINDS.map((k) => k.verb).join(', ');
    throw new OrchError(
      'BAD_INPUT',
      `this worker does not know how to run a ${JSON.stringify(verb)} job (it runs ${known})`,
    );
  }
  return kind;
}
