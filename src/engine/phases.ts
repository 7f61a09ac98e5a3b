// The two remote phases of a host run, each ONE exec: check every state (read-only), then apply every state that
// needs it, with requisites evaluated by the shell at run time. Secrets in diffs and comments are masked here.
import { createHash } from 'node:crypto';
import { debugText } from '../errors/debug.js';
import { lineRedactor } from '../secrets/lines.js';
import { redactor } from '../secrets/redactor.js';
import { shQuote } from '../shell/quote.js';
import { MARK, buildBatch, newNonce, type ScriptStep, type StepGuard } from '../shell/script.js';
import type { Connection } from '../transport/types.js';
import { defaultApplyOutcome } from '../states/common.js';
import type { CheckOutcome } from '../states/types.js';
import type { CompiledHost, CompiledState } from './compile.js';
import { parseBatchOutput, type StepOutput } from '../shell/protocol.js';
import { AFTER_TIMEOUT_GUARD, TIMEOUT_PRELUDE, withTimeout } from './step-timeout.js';
import { transferError, withStaging } from '../files/staging.js';
import { becomesAnother, withBecomeStaging } from '../files/streamed.js';
import type { StateResult, StateStatus } from './result.js';

const missingOutput = (index: number): StepOutput => ({ index, status: null, kv: {}, text: '' });

/** The check batch of a host: every state's read-only check, framed (also for `orch render --script check`). */
export function checkScript(compiled: CompiledHost, nonce: string): string {
  const timed = hasTimeouts(compiled);
  const steps: ScriptStep[] = compiled.states.map((s) => ({
    index: s.index,
    body: timedBody(s, s.impl.check(s.args, s.prepared, compiled.ctx)),
    guards: timed ? [AFTER_TIMEOUT_GUARD] : undefined,
    inline: s.decl.timeout === undefined && inlineCheck(s),
  }));
  return buildBatch(nonce, steps, (timed ? TIMEOUT_PRELUDE : '') + runAsPrelude(compiled));
}

/**
 * The PostgreSQL states' checks run psql as the PostgreSQL account: its uid is looked up once for the batch
 * (orch_run_as_prepare, src/shell/actor.ts), not once per check. Only in the check batch: an apply may create the
 * account, and its uid would then be looked up before it exists.
 */
function runAsPrelude(compiled: CompiledHost): string {
  if (!compiled.states.some((s) => s.decl.fn.startsWith('postgres.'))) return '';
  return `orch_run_as_prepare ${shQuote(compiled.facts.postgresUser || 'postgres')}\n`;
}

/** Whether the state's check may run in the batch's own shell (StateFunction.inlineCheck). */
function inlineCheck(s: CompiledState): boolean {
  const i = s.impl.inlineCheck;
  return typeof i === 'function' ? i(s.args) : i === true;
}

/** With --debug: the script sent and the host's raw framed answer (the debug sink masks both). */
function debugExec(
  host: string,
  phase: string,
  script: string,
  res: { stdout: string; stderr: string },
): void {
  debugText(`${host}: ${phase} script`, script);
  debugText(`${host}: ${phase} output (raw)`, res.stdout);
  if (res.stderr) debugText(`${host}: ${phase} stderr`, res.stderr);
}

/** Run every state's check in one exec and interpret the results. Never changes the host. */
export async function checkPhase(conn: Connection, compiled: CompiledHost): Promise<CheckOutcome[]> {
  const nonce = newNonce();
  const script = checkScript(compiled, nonce);
  const res = await conn.runScript(script, { readOnly: true });
  debugExec(compiled.host.name, 'check', script, res);
  const outputs = parseBatchOutput(res.stdout, nonce);
  const outcomes: CheckOutcome[] = [];
  for (const s of compiled.states) {
    const out = outputs.get(s.index) ?? missingOutput(s.index);
    const watchWouldTrigger = s.deps.watch.some((j) => wouldChange(outcomes[j]!));
    let outcome: CheckOutcome;
    const timedOut = timeoutComment(out, 'check');
    if (timedOut) {
      outcome = { status: 'error', comment: timedOut };
      timedOutChecks.add(outcome);
    } else if (out.status === null) {
      outcome = {
        status: 'error',
        comment: `check did not complete${res.stderr ? `: ${res.stderr.trim()}` : ''}`,
      };
    } else {
      try {
        outcome = s.impl.interpretCheck(s.args, s.prepared, out, compiled.ctx, watchWouldTrigger);
      } catch (err) {
        outcome = { status: 'error', comment: `could not interpret the check: ${(err as Error).message}` };
      }
    }
    // A check that fails while something it requires is still to change cannot be judged yet: the host will
    // look different by the time this state runs (its apply re-checks). Reporting a failure would be a lie.
    const pendingDeps = [...s.deps.require, ...s.deps.watch].filter((j) => wouldChange(outcomes[j]!));
    if (outcome.status === 'error' && pendingDeps.length > 0 && !timedOutChecks.has(outcome)) {
      const names = pendingDeps.map((j) => compiled.states[j]!.decl.id).join(', ');
      outcome = {
        status: 'unknown',
        comment: `cannot be known before ${names} is applied (now: ${outcome.comment})`,
      };
    }
    if (s.deps.onchanges.length > 0 && !s.deps.onchanges.some((j) => wouldChange(outcomes[j]!))) {
      outcome = { status: 'clean', comment: 'onchanges: none of the watched states would change' };
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Checks that timed out (or were skipped after one that did): nothing from there on is applied on the host. */
const timedOutChecks = new WeakSet<CheckOutcome>();

/** True when some state of the host has `timeout:` (its batch then gets the watchdog prelude and guards). */
function hasTimeouts(compiled: CompiledHost): boolean {
  return compiled.states.some((s) => s.decl.timeout !== undefined);
}

function timedBody(s: CompiledState, body: string): string {
  return s.decl.timeout === undefined ? body : withTimeout(body, s.decl.timeout);
}

/** The comment of a step that timed out or was skipped because an earlier one did; undefined otherwise. */
function timeoutComment(out: StepOutput, what: 'check' | 'apply'): string | undefined {
  if (out.kv.timed_out !== undefined)
    return `${what} timed out after ${out.kv.timed_out}s (timeout:); its processes were ended and nothing after it ran on this host`;
  if (out.status === 'skip' && out.kv.skipped === 'timed_out')
    return `not run: an earlier state timed out on this host`;
  return undefined;
}

function wouldChange(o: CheckOutcome): boolean {
  return o.status === 'change' || o.status === 'unknown';
}

/** Results of a check-only run (apply --test, drift). */
export function testResults(compiled: CompiledHost, checks: CheckOutcome[]): StateResult[] {
  return compiled.states.map((s, i) => {
    const c = checks[i]!;
    const requisiteError = [...s.deps.require, ...s.deps.watch].some((j) => checks[j]!.status === 'error');
    const status: StateStatus =
      c.status === 'clean'
        ? 'clean'
        : c.status === 'change'
          ? 'would_change'
          : c.status === 'unknown'
            ? 'unknown'
            : 'failed';
    const result = c.status === 'clean' ? true : c.status === 'error' ? false : null;
    const note = requisiteError && c.status !== 'error' ? ' (a requisite cannot be checked)' : '';
    const r = stateResult(s, status, result, false, `${c.comment}${note}`, c.diff);
    if (c.status === 'error' && c.diverged) r.diverged = c.diverged;
    return r;
  });
}

/** Comment of a state a stop request left alone (followed by the reason). */
export const STOPPED_PREFIX = 'not run: stopped before this state';

/** A running apply batch told to stop: `requested` is polled, `reason` says why in the states left alone. */
export interface BatchStop {
  requested(): boolean;
  reason(): string;
}

const STOP_POLL_MS = 200;

/**
 * Apply the states that need it in one exec. A state runs when its check said change/unknown, or when it reacts
 * to a watched state that may change; requisites are shell guards so a failure stops its dependents on the host.
 */
export async function applyPhase(
  conn: Connection,
  compiled: CompiledHost,
  checks: CheckOutcome[],
  onStepText?: (line: string) => void,
  stop?: BatchStop,
): Promise<StateResult[]> {
  const nonce = newNonce();
  // The safe points: before each state the batch looks for this file, which the controller creates (over a second
  // channel of the same connection) when told to stop. The nonce makes the name unguessable to other accounts.
  const stopFile = `/tmp/orch-stop-${nonce}`;
  const { inBatch, presets, steps, afterTimeout, timed } = planApply(
    compiled,
    checks,
    stop ? stopFile : undefined,
  );
  let outputs = new Map<number, StepOutput>();
  let stderr = '';
  const uploads = uploadsOf(compiled, inBatch);
  const run = async (stagePrelude: string): Promise<void> => {
    const script = buildBatch(
      nonce,
      steps,
      (timed ? TIMEOUT_PRELUDE : '') + stagePrelude + presets.join('\n'),
    );
    // Live lines: whole lines only (a secret may straddle two SSH data chunks), protocol text never shown (its
    // kv values are hex, which a plain-text mask would miss), then redacted.
    const live = onStepText ? lineRedactor(onStepText, { visible: protocolFree(nonce) }) : undefined;
    let asked: Promise<unknown> | undefined;
    const poll = stop
      ? setInterval(() => {
          if (asked || !stop.requested()) return;
          asked = conn.exec(`: > ${stopFile}`, { become: false }).catch(() => undefined);
        }, STOP_POLL_MS)
      : undefined;
    let res: Awaited<ReturnType<Connection['runScript']>>;
    try {
      // A progress meter redraws its line with \r (pg_basebackup -P): each redraw is a line of its own here.
      res = await conn.runScript(script, {
        onStdout: live ? (chunk) => live.push(chunk.replace(/\r(?!\n)/g, '\n')) : undefined,
      });
    } finally {
      clearInterval(poll);
    }
    live?.end();
    debugExec(compiled.host.name, 'apply', script, res);
    if (asked) {
      await asked;
      await conn.exec(`rm -f ${stopFile}`, { become: false }).catch(() => undefined);
    }
    outputs = parseBatchOutput(res.stdout, nonce);
    stderr = res.stderr.trim();
  };
  if (steps.length > 0 && uploads.size === 0) await run('');
  else if (steps.length > 0 && becomesAnother(conn.host, undefined)) {
    // Become to an account other than root cannot read the login user's staging directory: the sources go over
    // the exec channel into one private to the become user ("$orch_stage"/<sha256> all the same).
    await withBecomeStaging(conn, uploads, (dir) => run(`orch_stage=${shQuote(dir)}\n`));
  } else if (steps.length > 0) {
    // Sources sent over SFTP go first, into the login user's private staging directory, named by their sha256;
    // the batch's steps find them at "$orch_stage"/<sha256>. Removed when the batch has ended.
    await withStaging(conn, async (stage) => {
      for (const [sha, data] of uploads) {
        await stage.files
          .put({ data }, stage.path(sha), 0o600)
          .catch((err: unknown) =>
            Promise.reject(transferError(conn, 'cannot send a file.managed source', err)),
          );
      }
      await run(`orch_stage=${shQuote(stage.dir)}\n`);
    });
  }

  return compiled.states.map((s) => {
    const c = checks[s.index]!;
    if (afterTimeout.has(s.index)) {
      if (c.comment.startsWith('check timed out'))
        return stateResult(s, 'failed', false, false, c.comment, undefined);
      return stateResult(
        s,
        'not_run',
        false,
        false,
        'not run: an earlier state timed out on this host',
        undefined,
      );
    }
    if (!inBatch.has(s.index)) {
      if (c.status === 'error') return stateResult(s, 'failed', false, false, c.comment, c.diff);
      return stateResult(s, 'clean', true, false, c.comment, undefined);
    }
    const out = outputs.get(s.index) ?? missingOutput(s.index);
    const timedOut = timeoutComment(out, 'apply');
    if (timedOut) {
      const status = out.status === 'skip' ? 'not_run' : 'failed';
      return stateResult(s, status, false, false, timedOut, undefined);
    }
    if (out.status === 'skip') {
      if (out.kv.skipped === 'stopped')
        return stateResult(
          s,
          'not_run',
          false,
          false,
          `${STOPPED_PREFIX}: ${stop?.reason() ?? 'cancelled'}`,
          undefined,
        );
      const noChanges = out.kv.skipped === 'no_changes';
      return noChanges
        ? stateResult(s, 'clean', true, false, 'onchanges: no watched state changed', undefined)
        : stateResult(s, 'not_run', false, false, 'not run: a requisite failed', undefined);
    }
    if (out.status === null && !outputs.has(s.index)) {
      return stateResult(
        s,
        'not_run',
        false,
        false,
        `not run: the apply script ended early${stderr ? ` (${stderr})` : ''}`,
        undefined,
      );
    }
    const outcome = s.impl.interpretApply
      ? s.impl.interpretApply(s.args, s.prepared, out, compiled.ctx)
      : defaultApplyOutcome(out, s.decl.id);
    const status: StateStatus = !outcome.result ? 'failed' : outcome.changed ? 'changed' : 'clean';
    return stateResult(
      s,
      status,
      outcome.result,
      outcome.changed,
      outcome.comment,
      outcome.changed ? (outcome.diff ?? c.diff) : undefined,
    );
  });
}

/** What the batch's states send over SFTP first, by sha256 (one copy of each content). */
function uploadsOf(compiled: CompiledHost, inBatch: Set<number>): Map<string, Uint8Array> {
  const uploads = new Map<string, Uint8Array>();
  for (const s of compiled.states) {
    if (!inBatch.has(s.index)) continue;
    const data = s.impl.upload?.(s.args, s.prepared);
    if (data) uploads.set(createHash('sha256').update(data).digest('hex'), data);
  }
  return uploads;
}

/** The apply batch that would run after these checks, or undefined when nothing needs applying (`orch render`). */
export function applyScript(
  compiled: CompiledHost,
  checks: CheckOutcome[],
  nonce: string,
): string | undefined {
  const { presets, steps, timed } = planApply(compiled, checks, undefined);
  return steps.length
    ? buildBatch(nonce, steps, (timed ? TIMEOUT_PRELUDE : '') + presets.join('\n'))
    : undefined;
}

/** Which states the apply batch holds, with their shell guards, and the presets of those left out. */
function planApply(
  compiled: CompiledHost,
  checks: CheckOutcome[],
  stopFile: string | undefined,
): {
  inBatch: Set<number>;
  presets: string[];
  steps: ScriptStep[];
  afterTimeout: Set<number>;
  timed: boolean;
} {
  const timed = hasTimeouts(compiled);
  const inBatch = new Set<number>();
  const presets: string[] = [];
  const steps: ScriptStep[] = [];
  const afterTimeout = new Set<number>();
  for (const s of compiled.states) {
    const c = checks[s.index]!;
    if (afterTimeout.size > 0 || timedOutChecks.has(c)) {
      afterTimeout.add(s.index);
      presets.push(`orch_rc_${s.index}=1`);
      continue;
    }
    const watchMayTrigger = s.deps.watch.some((j) => inBatch.has(j));
    const onchangesMayTrigger = s.deps.onchanges.some((j) => inBatch.has(j));
    const needed =
      c.status !== 'error' &&
      (s.deps.onchanges.length > 0
        ? onchangesMayTrigger
        : c.status === 'change' ||
          c.status === 'unknown' ||
          (watchMayTrigger && s.impl.reactsToWatch === true));
    if (!needed) {
      presets.push(`orch_rc_${s.index}=${c.status === 'error' ? 1 : 0}`);
      continue;
    }
    inBatch.add(s.index);
    const guards: StepGuard[] =
      stopFile !== undefined ? [{ cond: `[ ! -e ${stopFile} ]`, reason: 'stopped' }] : [];
    if (timed) guards.push(AFTER_TIMEOUT_GUARD);
    const required = [...s.deps.require, ...s.deps.watch, ...s.deps.onchanges];
    if (required.length)
      guards.push({ cond: required.map((j) => `orch_ok ${j}`).join(' && '), reason: 'requisite_failed' });
    if (s.deps.onchanges.length) {
      guards.push({ cond: s.deps.onchanges.map((j) => `orch_chg ${j}`).join(' || '), reason: 'no_changes' });
    }
    const watched = s.deps.watch.filter((j) => inBatch.has(j));
    const watchChanged = watched.length ? watched.map((j) => `orch_chg ${j}`).join(' || ') : null;
    steps.push({
      index: s.index,
      guards,
      body: timedBody(s, s.impl.apply(s.args, s.prepared, c, compiled.ctx, { watchChanged })),
    });
  }
  return { inBatch, presets, steps, afterTimeout, timed };
}

/** The part of a streamed line before any protocol marker (a step's text may lack its final newline). */
function protocolFree(nonce: string): (line: string) => string {
  const marker = `${MARK}:${nonce}:`;
  return (line) => {
    const at = line.indexOf(marker);
    return at < 0 ? line : line.slice(0, at);
  };
}

function stateResult(
  s: CompiledState,
  status: StateStatus,
  result: boolean | null,
  changed: boolean,
  comment: string,
  diff: string | undefined,
): StateResult {
  const r: StateResult = {
    // The id and name can come from templated pillar values (a `!secret` in a name): masked like the rest.
    id: redactor.redact(s.decl.id),
    fn: s.decl.fn,
    name: redactor.redact(String(s.args.name ?? s.decl.id)),
    status,
    result,
    changed,
    comment: redactor.redact(comment),
    file: s.decl.file,
    line: s.decl.line,
  };
  if (diff) r.diff = redactor.redact(diff);
  return r;
}
