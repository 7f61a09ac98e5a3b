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
/** Compiled templates per environment, by file and text: every host renders the same state and pillar files. */
const compiled = new WeakMap<nunjucks.Environment, Map<string, nunjucks.Template>>();
/** Distinct texts kept per environment before the cache starts over (a project has far fewer). */
const MAX_COMPILED = 2000;

function templateFor(env: nunjucks.Environment, text: string, file: string): nunjucks.Template {
  let byKey = compiled.get(env);
  if (!byKey) compiled.set(env, (byKey = new Map()));
  const key = `${file}\u0000${text}`;
  let t = byKey.get(key);
  if (!t) {
    if (byKey.size >= MAX_COMPILED) byKey.clear();
    t = new nunjucks.Template(text, env, file);
    byKey.set(key, t);
  }
  return t;
}

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
    return templateFor(env, text, where.file).render(context);
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
