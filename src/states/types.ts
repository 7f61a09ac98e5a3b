// The contract every state module function fulfils: validate args, prepare on the controller, a read-only check
// step, an apply step, and the interpretation of each step's output. Modules never talk to the host themselves:
// the engine batches their steps into one remote script per phase.
import type { ZodType } from 'zod';
import type { Facts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import type { StepOutput } from '../shell/protocol.js';

export interface StateContext {
  host: HostSpec;
  facts: Facts;
  pillar: Record<string, unknown>;
  /** This run's one-shot `--force-rebuild` names this host (never read from state files). */
  forceRebuild?: boolean;
  /**
   * The hosts whose states run alongside this host's now: the run's hosts (a rolling run's: this host's batch).
   * Known when apply bodies are made; undefined outside a run (render, unit tests): every host counts as in it.
   */
  runHosts?: () => readonly string[];
  /** Render a template from templates/ with the host's context plus extra values. */
  renderTemplate(name: string, extra?: Record<string, unknown>): string;
  /** The bytes of a file under templates/ (or states/), unrendered; undefined when there is none. */
  readSource?(name: string): Buffer | undefined;
}

export type CheckStatus = 'clean' | 'change' | 'unknown' | 'error';

export interface CheckOutcome {
  status: CheckStatus;
  comment: string;
  /** Unified diff or a readable description of the change (secrets are masked by the engine). */
  diff?: string;
  /** Module-private findings handed to apply (e.g. which packages are missing). */
  plan?: unknown;
  /** With status 'error': the check refuses because the host's place in the replication topology differs from the
   * declared one (a primary where a standby belongs, a newer timeline, another upstream). The host was read; it is
   * drift, which a drift run reports as such, not a check that could not be made. */
  diverged?: Diverged;
}

/** How a node's place in the replication topology differs from the declared one. */
export type Diverged = 'role' | 'timeline' | 'upstream';

export interface ApplyStepOutcome {
  result: boolean;
  changed: boolean;
  comment: string;
  diff?: string;
}

/** How the engine asks an apply step to react to watched states (service restarts, reloads). */
export interface ApplyTriggers {
  /** Shell condition true at run time when any watched state changed; null when nothing is watched. */
  watchChanged: string | null;
}

export interface StateFunction<A = Record<string, unknown>, P = unknown> {
  /** Arguments accepted; unknown ones are rejected at compile time. `name` defaults to the state id. */
  args: ZodType<A>;
  /** Controller-side preparation (render templates, hash contents, compute verifiers). Must not touch the host. */
  prepare?(args: A, ctx: StateContext): P;
  /** Read-only shell body reporting the current state through orch_kv. It must never change anything. */
  check(args: A, prepared: P, ctx: StateContext): string;
  /**
   * The check body may run in the batch's own shell instead of a subshell (src/shell/script.ts, ScriptStep.inline):
   * it never exits, cds, exports, traps or sets shell options, and a failure shows in its kv or its last command's
   * status without set -e. One process less per state on every host at every run.
   */
  inlineCheck?: boolean | ((args: A) => boolean);
  /** Turn the check step's output into an outcome. `watchWouldTrigger` is set when a watched state would change. */
  interpretCheck(
    args: A,
    prepared: P,
    out: StepOutput,
    ctx: StateContext,
    watchWouldTrigger: boolean,
  ): CheckOutcome;
  /**
   * Shell body making it so. It re-checks on the host before acting (so it is right even when the check was
   * 'unknown'), sets orch_changed=1 when it changed something, and fails with a non-zero status on error.
   */
  apply(args: A, prepared: P, check: CheckOutcome, ctx: StateContext, triggers: ApplyTriggers): string;
  /**
   * Bytes to send to the host over SFTP before the apply batch runs, when this state is in it; the apply body finds
   * them at "$orch_stage"/<sha256 of the bytes> (the login user's private staging directory). Never in check mode.
   */
  upload?(args: A, prepared: P): Uint8Array | undefined;
  /** Interpret the apply step; the default reads the exit status (0 ok, 100 changed, else failed). */
  interpretApply?(args: A, prepared: P, out: StepOutput, ctx: StateContext): ApplyStepOutcome;
  /** True when `watch` means more than `require` for this function (services restart on change). */
  reactsToWatch?: boolean;
}

// A registry entry erases the argument types: the engine validates args with the function's own schema first.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStateFunction = StateFunction<any, any>;
