// The render environment of a Salt tree's files: orch's own (filters, strict undefined, the confined loader over
// templates/ and states/), with each loaded Salt template passed through jinjaCompat first, so an imported
// map.jinja gets the same small translation as the sls that imports it.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { createRenderEnv } from '../render/env.js';
import { ConfinedLoader } from '../render/loader.js';

/**
 * Jinja that nunjucks reads otherwise, rewritten inside `{{ }}` and `{% %}` only (strings in them left alone):
 * Python's `True`/`False`/`None` (nunjucks knows `true`/`false`/`none`), a trailing comma before a closing bracket
 * (`{'a': 1,}`), and `}}` inside a block tag (nunjucks' lexer ends a variable tag there). Line breaks are kept.
 */
export function jinjaCompat(text: string): string {
  return text
    .replace(/\{%[\s\S]*?%\}/g, (tag) => outsideStrings(tag, (code) => dictCloses(python(code))))
    .replace(/\{\{[\s\S]*?\}\}/g, (tag) => outsideStrings(tag, python));
}

const STRING = /('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/;

function outsideStrings(tag: string, fix: (code: string) => string): string {
  const open = tag.slice(0, 2);
  const close = tag.slice(-2);
  const body = tag
    .slice(2, -2)
    .split(STRING)
    .map((part, i) => (i % 2 === 1 ? part : fix(part)))
    .join('');
  return `${open}${body}${close}`;
}

function python(code: string): string {
  const names: Record<string, string> = { True: 'true', False: 'false', None: 'none' };
  return code
    .replace(/(^|[^\w.])(True|False|None)(?!\w)/g, (_m, pre: string, w: string) => `${pre}${names[w]}`)
    .replace(/,(\s*[}\])])/g, '$1');
}

function dictCloses(code: string): string {
  return code.replace(/\}(?=\})/g, '} ');
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
