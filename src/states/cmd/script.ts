// cmd.script: renders a template from templates/ and runs it with /bin/sh on the host, guarded like cmd.run. The
// script travels inside the batch (a here-document piped to `/bin/sh -s`), never as a file on the host. It is
// wrapped in `{ ...; } </dev/null` so the shell parses it whole before running it and a command in it that reads
// stdin cannot swallow the rest of the script.
import { z } from 'zod';
import { printContent, shJoin } from '../../shell/quote.js';
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
  .object({
    name: z.string().min(1).describe('the script: a template under templates/ unless source is given'),
    /** Template name under templates/; defaults to the name. */
    source: z.string().min(1).optional().describe('template under templates/ (default: the name)'),
    context: z.record(z.string(), z.unknown()).optional().describe('extra template variables'),
    // A Salt tree's `source: salt://...` arrives here read (and rendered only with template: jinja).
    contents: z.string().optional().describe('the script itself, instead of a template'),
    /** Arguments ($1, $2, ...): a list, or a string split on whitespace. */
    args: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe('script arguments ($1, $2, ...): a list, or a string split on whitespace'),
    ...commandArgs,
  })
  .strict()
  .refine((a) => a.contents === undefined || a.source === undefined, {
    message: 'give source (a template) or contents, not both',
  });
type Args = z.infer<typeof args>;

interface Prepared {
  script: string;
  argv: string[];
}

function scriptArgv(a: Args): string[] {
  if (a.args === undefined) return [];
  return Array.isArray(a.args) ? a.args : a.args.split(/\s+/).filter(Boolean);
}

export const cmdScript: StateFunction<Args, Prepared> = {
  args,
  prepare(a, ctx) {
    const content = a.contents ?? ctx.renderTemplate(a.source ?? a.name, a.context ?? {});
    return { script: `{\n${content}\n} </dev/null\n`, argv: scriptArgv(a) };
  },
  check(a, p, ctx) {
    // `sh -n` only parses: a syntax error is reported in the check instead of half-way through an apply.
    const syntax = `if ! err=$(${printContent(p.script, '| /bin/sh -n 2>&1')}\n); then orch_kv syntax "$err"; fi`;
    return commandCheckBody(a, ctx.facts, syntax);
  },
  interpretCheck(a, _p, out) {
    return commandCheckOutcome(a, out, `would run script ${a.source ?? a.name}`);
  },
  apply(a, p, _c, ctx) {
    const shell = shJoin(['/bin/sh', '-s', '--', ...p.argv]);
    const runner = a.runas === undefined ? shell : runCommand(ctx.facts, shell, a.runas);
    return commandApplyBody(
      a,
      ctx.facts,
      printContent(p.script, `| ${runner}`),
      `ran script ${a.source ?? a.name}`,
    );
  },
  interpretApply(a, _p, out) {
    return commandApplyOutcome(a, out, `script ${a.source ?? a.name}`);
  },
};
