// cmd.run: runs a shell command (the state's name) on the host, guarded by creates/unless/onlyif. It changes what
// the command changes; orch knows nothing more. Without guards it runs on every apply and always reports a change.
import { z } from 'zod';
import type { StateFunction } from '../types.js';
import {
  commandApplyBody,
  commandApplyOutcome,
  commandArgs,
  commandCheckBody,
  commandCheckOutcome,
  runCommand,
} from './guards.js';

const args = z
  .object({ name: z.string().min(1).describe('the shell command line to run'), ...commandArgs })
  .strict();
type Args = z.infer<typeof args>;

export const cmdRun: StateFunction<Args> = {
  args,
  // Guard commands run in a /bin/sh of their own; env and cwd would stay behind in the batch's shell.
  inlineCheck: (a) => a.env === undefined && a.cwd === undefined,
  check(a, _p, ctx) {
    return commandCheckBody(a, ctx.facts);
  },
  interpretCheck(a, _p, out) {
    return commandCheckOutcome(a, out, `would run: ${a.name}`);
  },
  apply(a, _p, _c, ctx) {
    return commandApplyBody(a, ctx.facts, runCommand(ctx.facts, a.name, a.runas), `ran: ${a.name}`);
  },
  interpretApply(a, _p, out) {
    return commandApplyOutcome(a, out, 'command');
  },
};
