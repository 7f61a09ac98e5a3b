// The nunjucks environment every template and state file is rendered with: loader over <root>/templates and
// <root>/states (confined to them, see loader.ts), throwOnUndefined, no autoescape (we render config files and
// shell, not HTML), trim/lstrip blocks, orch's filters. Rendering errors become InputErrors naming file, line and host (see errors.ts).
//
// Nunjucks records the current template line only at function calls, so an error thrown by a strict pillar
// proxy (a member lookup) or a filter would carry no line. tracking.ts teaches the compiler to record it there too.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { registerFilters } from './filters.js';
import { templateError } from './errors.js';
import { ConfinedLoader } from './loader.js';
import { enableLineTracking } from './tracking.js';

const roots = new WeakMap<nunjucks.Environment, string>();

/** A render environment for the project at `root`. */
export function createRenderEnv(root: string): nunjucks.Environment {
  enableLineTracking();
  const loader = new ConfinedLoader([path.join(root, 'templates'), path.join(root, 'states')]);
  // dev: keep nunjucks' own error objects so the original error (and its code) survives as `cause`.
  const env = new nunjucks.Environment(loader, {
    throwOnUndefined: true,
    autoescape: false,
    trimBlocks: true,
    lstripBlocks: true,
    dev: true,
  } as nunjucks.ConfigureOptions);
  registerFilters(env);
  roots.set(env, root);
  return env;
}

export interface RenderWhere {
  /** File name shown in errors (relative to the project root), e.g. states/postgres/init.yaml. */
  file: string;
  host: string;
}

/** Render template text (e.g. a state file or a pillar file) for one host. */
export function renderString(
  env: nunjucks.Environment,
  text: string,
  context: Record<string, unknown>,
  where: RenderWhere,
): string {
  try {
    return new nunjucks.Template(text, env, where.file).render(context);
  } catch (err) {
    throw templateError(err, where, roots.get(env));
  }
}

/** Compile template text without rendering it: its syntax errors, which no facts or pillar could change. */
export function compileString(env: nunjucks.Environment, text: string, where: RenderWhere): void {
  try {
    new nunjucks.Template(text, env, where.file, true);
  } catch (err) {
    throw templateError(err, where, roots.get(env));
  }
}

/** Render a named template from templates/ (or states/) for one host. */
export function renderTemplate(
  env: nunjucks.Environment,
  name: string,
  context: Record<string, unknown>,
  where: RenderWhere,
): string {
  try {
    return env.render(name, context);
  } catch (err) {
    throw templateError(err, where, roots.get(env));
  }
}
