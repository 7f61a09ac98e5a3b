// A Salt pillar tree: pillar/top.sls (environments as in states/top.sls; every environment counts, as Salt's
// pillar merges them when no pillarenv is set) and pillar/*.sls rendered with Salt's Jinja names (grains, opts;
// `pillar` is empty while pillar itself is being compiled, as in Salt's first pass).
import path from 'node:path';
import type nunjucks from 'nunjucks';
import type { Facts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import { renderString } from '../render/env.js';
import { jinjaCompat, saltEnvFor } from './env.js';
import { readTopSls, saltRenderContext, saltTargetMatches, throwFindings } from './compile.js';

export interface SaltPillarEntry {
  target: string;
  names: string[];
  line?: number;
  matches: (host: HostSpec, facts: Facts | undefined) => boolean;
}

/** The entries of pillar/top.sls for this host's render; undefined when there is none. */
export function saltPillarTop(
  root: string,
  env: nunjucks.Environment,
  host: HostSpec,
  facts: Facts | undefined,
  baseCtx: Record<string, unknown>,
): SaltPillarEntry[] | undefined {
  const run = { root, env, host, facts, pillar: {}, baseCtx };
  const top = readTopSls(run, path.join(root, 'pillar', 'top.sls'), 'pillar/top.sls');
  if (!top) return undefined;
  throwFindings(top.findings, host.name);
  return top.entries.map((e) => ({
    target: e.target,
    names: e.names,
    line: e.line,
    matches: (h, f) => saltTargetMatches(e, h, f),
  }));
}

/** The extra names a pillar .sls file sees when rendered. */
export function saltPillarContext(
  root: string,
  env: nunjucks.Environment,
  host: HostSpec,
  facts: Facts | undefined,
  baseCtx: Record<string, unknown>,
): Record<string, unknown> {
  return saltRenderContext({ root, env, host, facts, pillar: {}, baseCtx });
}

/** Render a pillar .sls file's text with the Salt environment. */
export function renderSaltPillar(
  root: string,
  env: nunjucks.Environment,
  text: string,
  context: Record<string, unknown>,
  where: { file: string; host: string },
): string {
  return renderString(saltEnvFor(env, root), jinjaCompat(text), context, where);
}
