// salt:// urls on the state tree (file_roots semantics: salt://postgres/.pgpass is states/postgres/.pgpass). The
// same confinement as the template loader (render/loader.ts): the path is resolved with realpath and must lie inside
// the real states/ directory, by path segment, so `..` and a symlink out of the tree are refused.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { isInside } from '../render/loader.js';

export interface SaltFile {
  /** Absolute path of the file. */
  file: string;
  /** As shown in errors: states/postgres/.pgpass */
  display: string;
}

/** The file a salt:// url names in the `states` directory, or undefined when it does not exist. Refuses a way out. */
export function saltUrlFile(states: string, url: string): SaltFile | undefined {
  const m = /^salt:\/\/([^?]*)(\?.*)?$/.exec(url);
  if (!m) throw new InputError('STATE_ERROR', `'${url}' is not a salt:// url`);
  if (m[2])
    throw new InputError('SALT_UNSUPPORTED', `${url}: salt:// query strings (?saltenv=) are not supported`);
  const rel = m[1]!.replace(/^\/+/, '');
  if (rel.includes('\0') || rel === '') throw new InputError('STATE_ERROR', `'${url}' names no file`);
  const candidate = path.resolve(states, rel);
  if (!existsSync(candidate)) {
    // Not there: still refuse a path that leaves the tree, so the message never hints at files outside it.
    if (!isInside(path.resolve(states), candidate))
      throw new InputError('STATE_ERROR', `${url} leads outside states/; refused`);
    return undefined;
  }
  const real = realpathSync(candidate);
  if (!isInside(realpathSync(states), real)) {
    throw new InputError('STATE_ERROR', `${url} resolves outside states/ (to ${real}); refused`);
  }
  return { file: real, display: path.posix.join('states', rel) };
}

/** The text of a salt:// file; an error naming the url when it is missing. */
export function readSaltUrl(states: string, url: string): SaltFile & { text: string } {
  const found = saltUrlFile(states, url);
  if (!found) throw new InputError('STATE_ERROR', `${url} not found (looked for states/${url.slice(7)})`);
  return { ...found, text: readFileSync(found.file, 'utf8') };
}
