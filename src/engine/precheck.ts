// The checks of a host's state files that need no facts, run before connecting (`orch render`, `orch apply`): the
// top file's YAML, and for each state file the host loads whatever its facts, its template syntax and, when it has no
// template markup, its YAML and its includes. Only errors that compiling with the host's facts would raise as well:
// a file whose use depends on facts, a malformed target or a bad include are left to compileHost.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { InputError, OrchError } from '../errors.js';
import { exprMatches, parseTarget } from '../inventory/target.js';
import type { HostSpec } from '../inventory/types.js';
import { compileString } from '../render/env.js';
import { parseYaml } from '../render/yaml.js';
import { compileErrors, forHost, stateFilePath, topStateFilesPath } from './compile.js';

// Text without these renders to itself, so its YAML is the same whatever the facts.
const MARKUP = /\{[{%#]/;

/** The host's fact-independent errors as compileHost would report them, or undefined when there are none. */
export function precheckHost(
  root: string,
  env: nunjucks.Environment,
  host: HostSpec,
  only?: string[],
  /** State file names already found clean for another host of the run (their checks do not depend on the host). */
  clean: Set<string> = new Set(),
): InputError | undefined {
  const problems: InputError[] = [];
  const collect = (err: unknown): void => {
    if (!(err instanceof OrchError)) throw err;
    problems.push(forHost(err, host));
  };
  let names: string[] = [];
  try {
    names = only ?? surelyAssigned(root, host);
  } catch (err) {
    collect(err);
  }
  const seen = new Set<string>();
  const check = (name: string): void => {
    if (seen.has(name) || clean.has(name)) return;
    seen.add(name);
    let file: string;
    try {
      file = stateFilePath(root, name);
    } catch {
      return; // not found or refused: compileHost reports it with the file that names it
    }
    // A Salt sls reads through src/salt/ (its Jinja translated first): compile checks it, with the host's facts.
    if (file.endsWith('.sls')) return;
    const display = path.relative(root, file) || file;
    const text = readFileSync(file, 'utf8');
    compileString(env, text, { file: display, host: host.name });
    const includes = MARKUP.test(text) ? [] : includesOf(parseYaml(text, display));
    clean.add(name);
    for (const inc of includes) check(inc);
  };
  for (const name of names) {
    try {
      check(name);
    } catch (err) {
      collect(err);
    }
  }
  return problems.length ? compileErrors(problems) : undefined;
}

/** The top file's state files for targets that name the host without facts (a parse error of the file is thrown). */
function surelyAssigned(root: string, host: HostSpec): string[] {
  const file = topStateFilesPath(root);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // no top file: compileHost says so
  }
  const doc = parseYaml(text, path.relative(root, file));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const names: string[] = [];
  for (const [target, list] of Object.entries(doc as Record<string, unknown>)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) continue;
    let matches: boolean | undefined;
    try {
      matches = exprMatches(parseTarget(target), host);
    } catch {
      continue;
    }
    if (matches === true) for (const n of list as string[]) if (!names.includes(n)) names.push(n);
  }
  return names;
}

/** The names a state file's `include:` lists, when it is a list of names. */
function includesOf(doc: unknown): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const inc = (doc as Record<string, unknown>).include;
  return Array.isArray(inc) ? inc.filter((x): x is string => typeof x === 'string') : [];
}
