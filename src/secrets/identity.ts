// Where the age identities (private keys) that decrypt pillar secrets come from, in order, first found wins:
//   1. env ORCH_AGE_IDENTITY: the AGE-SECRET-KEY-1... value(s) themselves (several separated by whitespace);
//   2. env ORCH_AGE_IDENTITY_FILE: a file;
//   3. $XDG_CONFIG_HOME/orch/identity.txt (XDG_CONFIG_HOME defaults to ~/.config).
// Identity files hold one key per line, `#` comment lines and blank lines allowed, and must not be accessible
// by group or others (mode 0600). This module reads identities; it never writes, prints or logs one.
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { identityToRecipient } from 'age-encryption';
import { InputError, OrchError } from '../errors.js';

export interface LoadedIdentities {
  /** The private keys, in file order. */
  identities: string[];
  /** Where they came from, for messages: 'env ORCH_AGE_IDENTITY' or a file path. */
  source: string;
}

const KEY_PREFIX = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;

/** The default identity file: $XDG_CONFIG_HOME/orch/identity.txt, or ~/.config/orch/identity.txt. */
export function defaultIdentityFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(os.homedir(), '.config');
  return path.join(base, 'orch', 'identity.txt');
}

/** The current identities from the first source present; throws SECRET_ERROR when there is none or it is unusable. */
export async function loadIdentities(env: NodeJS.ProcessEnv = process.env): Promise<LoadedIdentities> {
  const inline = env.ORCH_AGE_IDENTITY;
  if (inline !== undefined && inline.trim() !== '') {
    const source = 'env ORCH_AGE_IDENTITY';
    return { identities: await parseIdentities(inline.split(/\s+/).join('\n'), source), source };
  }
  const explicit = env.ORCH_AGE_IDENTITY_FILE;
  if (explicit !== undefined && explicit !== '')
    return { identities: await readIdentityFile(explicit), source: explicit };
  const file = defaultIdentityFile(env);
  try {
    return { identities: await readIdentityFile(file), source: file };
  } catch (err) {
    if ((err as { fileMissing?: boolean }).fileMissing) {
      throw new OrchError(
        'SECRET_ERROR',
        `no age identity: set ORCH_AGE_IDENTITY or ORCH_AGE_IDENTITY_FILE, or create ${file} with 'orch secrets keygen'`,
      );
    }
    throw err;
  }
}

/** Read and validate one identity file: it must exist, be mode 0600 (or stricter) and hold at least one key. */
export async function readIdentityFile(file: string): Promise<string[]> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    const e = new OrchError(
      'SECRET_ERROR',
      `cannot read identity file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
      },
    );
    Object.assign(e, { fileMissing: (err as NodeJS.ErrnoException).code === 'ENOENT' });
    throw e;
  }
  if (!st.isFile()) throw new OrchError('SECRET_ERROR', `identity file ${file} is not a regular file`);
  const perms = st.mode & 0o777;
  if ((perms & 0o077) !== 0) {
    throw new OrchError(
      'SECRET_ERROR',
      `identity file ${file} has mode ${perms.toString(8).padStart(4, '0')}: a private key must not be accessible ` +
        `by group or others; run: chmod 600 ${file}`,
    );
  }
  return parseIdentities(await readFile(file, 'utf8'), file);
}

/** Parse identity text (one key per line, # comments); each key is checked, none is ever echoed. */
export async function parseIdentities(text: string, source: string): Promise<string[]> {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = source.startsWith('env ') ? {} : { file: source, line: i + 1 };
    if (!KEY_PREFIX.test(line)) {
      throw new InputError(
        'SECRET_ERROR',
        `not an age identity (expected AGE-SECRET-KEY-1...) in ${source}`,
        where,
      );
    }
    try {
      await identityToRecipient(line);
    } catch {
      throw new InputError('SECRET_ERROR', `malformed age identity in ${source}`, where);
    }
    out.push(line);
  }
  if (out.length === 0) throw new OrchError('SECRET_ERROR', `no age identity found in ${source}`);
  return out;
}

/** The public recipients (age1...) of the given identities. */
export async function recipientsOf(identities: readonly string[]): Promise<string[]> {
  return Promise.all(identities.map((id) => identityToRecipient(id)));
}
