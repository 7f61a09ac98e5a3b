// The render environment of a Salt tree's files: orch's own (filters, strict undefined, the confined loader over
// templates/ and states/), with each loaded Salt template passed through jinjaCompat first, so an imported
// map.jinja gets the same small translation as the sls that imports it.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { createRenderEnv } from '../render/env.js';
import { ConfinedLoader } from '../render/loader.js';

/**
 * Jinja that nunjucks reads otherwise, rewritten inside `{{ }}` and `{% %}` only: a trailing comma before a closing
 * bracket (`{'a': 1,}`), which Jinja (Python) allows and nunjucks refuses. Line breaks are kept.
 */
export function jinjaCompat(text: string): string {
  return text.replace(/\{[{%][\s\S]*?[%}]\}/g, (tag) => tag.replace(/,(\s*[}\])])/g, '$1'));
}

class SaltLoader extends ConfinedLoader {
  override getSource(name: string): nunjucks.LoaderSource {
    const source = super.getSource(name);
    if (source && typeof source.src === 'string') source.src = jinjaCompat(source.src);
    return source;
  }
}

const saltEnvs = new WeakMap<nunjucks.Environment, nunjucks.Environment>();

/** The Salt environment beside orch's `env` for the project at `root` (one per environment, cached). */
export function saltEnvFor(env: nunjucks.Environment, root: string): nunjucks.Environment {
  let salt = saltEnvs.get(env);
  if (!salt) {
    salt = createRenderEnv(root);
    const loader = new SaltLoader([path.join(root, 'templates'), path.join(root, 'states')]);
    const inner = salt as unknown as { loaders: nunjucks.ILoader[]; _initLoaders(): void };
    inner.loaders = [loader];
    inner._initLoaders();
    saltEnvs.set(env, salt);
  }
  return salt;
}
