// Shared parts of pkg.installed and pkg.removed: arguments, the read-only query, and the shell that collects at run
// time the packages still to act on. Packages other than the named ones are never touched on purpose (the package
// tool may pull in or drop dependencies).
import { z } from 'zod';
import { OrchError } from '../../errors.js';
import { checkPkgNames, osPaths, parsePkgQuery } from '../../facts/os/index.js';
import type { StepOutput } from '../../shell/protocol.js';
import { kvText, readKv } from '../probe.js';
import type { StateContext } from '../types.js';
import { isKnownTool, type KnownPkgTool } from '../../facts/os/pkg.js';

/** Validate package names with the same rule the command builders apply. */
function validNames(names: string[], ctx: z.RefinementCtx): void {
  try {
    checkPkgNames(names);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof OrchError ? err.message : String(err) });
  }
}

const base = {
  name: z.string().min(1).describe('the package, when names is not given'),
  names: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('several packages in one transaction (name is then only the id)'),
};

/** pkg.installed: `refresh` updates the package metadata first (only when something is to be installed). */
export const installedArgs = z
  .object({
    ...base,
    refresh: z
      .boolean()
      .default(false)
      .describe('update the package metadata first (only when something is to be installed)'),
  })
  .strict()
  .superRefine((a, ctx) => validNames(a.names ?? [a.name], ctx));

export const removedArgs = z
  .object(base)
  .strict()
  .superRefine((a, ctx) => validNames(a.names ?? [a.name], ctx));

export interface PkgArgs {
  name: string;
  names?: string[];
}

/** The packages a state is about: `names` when given, else `name`. */
export function pkgNames(a: PkgArgs): string[] {
  return a.names ?? [a.name];
}

/** The package tool of the host, or null when the facts did not find one. */
export function toolOf(ctx: StateContext): KnownPkgTool | null {
  return isKnownTool(ctx.facts.pkgTool) ? ctx.facts.pkgTool : null;
}

/** Check body: the query output as kv `query` (read-only), or kv `tool=unknown`. */
export function pkgCheckBody(a: PkgArgs, ctx: StateContext): string {
  if (!toolOf(ctx)) return 'orch_kv tool unknown';
  // In a variable too: unknownProbe (installed.ts) skips the names the query found installed.
  return `orch_pkq=$(\n${osPaths(ctx.facts).pkgQueryScript(pkgNames(a))}) || :\norch_kv query "$orch_pkq"`;
}

/** What pkgCheckBody prints: tool=unknown, or the query's output. */
const checkKv = z.object({ tool: z.literal('unknown').optional(), query: kvText.optional() });

/** Read the check's query: name -> version (null when not installed), or an error comment. */
export function readQuery(
  a: PkgArgs,
  out: StepOutput,
): { versions: Map<string, string | null> } | { error: string } {
  const read = readKv(checkKv, out);
  if (!read.ok) return { error: read.error };
  const kv = read.kv;
  if (kv.tool === 'unknown') return { error: 'no known package tool on this host (apt, dnf, yum or pkg)' };
  if (out.status !== 0 || kv.query === undefined) return { error: `package query failed: ${out.text}` };
  const versions = parsePkgQuery(kv.query);
  const unanswered = pkgNames(a).filter((n) => !versions.has(n));
  if (unanswered.length) return { error: `package query gave no answer for: ${unanswered.join(', ')}` };
  return { versions };
}

/**
 * Shell that sets "$@" to the packages whose query state is `want` ('missing' or 'ok') right now, on the host.
 * Names were validated (no whitespace, no newline), so splitting the query output on lines is safe.
 */
export function collectNames(a: PkgArgs, ctx: StateContext, want: 'missing' | 'ok'): string {
  return `tab=$(printf '\\t')
orch_q=$(
${osPaths(ctx.facts).pkgQueryScript(pkgNames(a))})
set --
set -f; orch_ifs=$IFS; IFS='
'
for l in $orch_q; do
  case $l in "${want}$tab"*) n=\${l#${want}$tab}; set -- "$@" "\${n%%$tab*}" ;; esac
done
IFS=$orch_ifs; set +f`;
}
