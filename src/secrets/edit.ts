// `orch secrets edit <file>`: decrypt a pillar file's `!secret` values into a private temp copy where they read
// as `!plain "<value>"`, run $EDITOR on it, then turn every `!plain` back into `!secret`. Values that did not
// change keep their old ciphertext (small git diffs); changed and new ones are encrypted to pillar/.recipients.
// The temp directory (0700, file 0600) is removed in `finally`, also when the editor fails or orch is signalled.
// Nothing here prints a plaintext; YAML errors are reported by reason and line only.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ProjectConfig } from '../config/project.js';
import { InputError, OrchError } from '../errors.js';
import { encryptValue } from './crypto.js';
import { loadIdentities } from './identity.js';
import {
  crossCheck,
  findSecretTokens,
  inComment,
  lineAt,
  replaceSpans,
  writeFileAtomic,
} from './pillar-text.js';
import { readRecipients } from './recipients.js';
import { scrubbedEnv } from './child-env.js';
import { redactor } from './redactor.js';
import { MIN_SECRET_LENGTH, tryDecrypt } from './resolver.js';

export const PLAIN_TAG = '!plain';

/** First line of the temp copy; removed again on save when left in place. */
export const EDIT_HEADER =
  '# orch secrets edit: values tagged !plain are encrypted when you save and quit; unchanged ones keep their ciphertext.\n';

export interface EditOptions {
  /** Editor command (a shell command word list, like git's core.editor); default $EDITOR, then vi. */
  editor?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the private temp directory is made; default the OS temp dir. */
  tmpRoot?: string;
}

export interface EditResult {
  file: string;
  /** False when nothing changed (the file was not touched). */
  written: boolean;
  /** `!secret` values in the new file. */
  secrets: number;
  /** Of those, how many were encrypted afresh (changed or new). */
  encrypted: number;
}

interface PlainValue {
  value: string;
  start: number;
  end: number;
}

const PLAIN_RE =
  /!plain[ \t]+(?:("(?:[^"\\\n]|\\.)*")|('(?:[^'\n]|'')*')|([^\s#'"|>][^\n]*?)(?=[ \t]+#|[ \t]*(?:\r?\n|$)))/g;

/** Edit a pillar file's secrets in plain text through $EDITOR; see the module comment. */
export async function editPillarFile(
  project: ProjectConfig,
  file: string,
  opts: EditOptions = {},
): Promise<EditResult> {
  const env = opts.env ?? process.env;
  const abs = path.resolve(file);
  const shown = displayName(project.root, abs);
  const original = existsSync(abs) ? await readFile(abs, 'utf8') : '';
  const tokens = findSecretTokens(original, shown);
  const recipients = await readRecipients(project);
  const identities = tokens.length > 0 ? (await loadIdentities(env)).identities : [];

  const cipherOf = new Map<string, string>();
  const toPlain = [];
  for (const t of tokens) {
    const outcome = await tryDecrypt(t.token, identities);
    if (!outcome.ok)
      throw new InputError('SECRET_ERROR', `cannot decrypt: ${outcome.reason}`, {
        file: shown,
        line: t.line,
      });
    redactor.add(outcome.value);
    if (!cipherOf.has(outcome.value)) cipherOf.set(outcome.value, t.token);
    toPlain.push({ start: t.tagStart, end: t.end, text: `${PLAIN_TAG} ${yamlQuote(outcome.value)}` });
  }
  const plainText = EDIT_HEADER + replaceSpans(original, toPlain);

  const dir = await mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'orch-secrets-'));
  try {
    await chmod(dir, 0o700);
    const tmp = path.join(dir, path.basename(abs));
    await writeFile(tmp, plainText, { mode: 0o600, flag: 'wx' });
    await runEditor(opts.editor ?? env.EDITOR ?? 'vi', tmp, dir);
    const edited = await readFile(tmp, 'utf8');
    if (edited === plainText) return { file: abs, written: false, secrets: tokens.length, encrypted: 0 };
    const body = edited.startsWith(EDIT_HEADER) ? edited.slice(EDIT_HEADER.length) : edited;

    let encrypted = 0;
    const toSecret = [];
    for (const p of findPlainValues(body, shown)) {
      let cipher = cipherOf.get(p.value);
      if (cipher === undefined) {
        cipher = await encryptValue(p.value, recipients);
        encrypted++;
      }
      toSecret.push({ start: p.start, end: p.end, text: `!secret ${cipher}` });
    }
    const next = replaceSpans(body, toSecret);
    const secrets = findSecretTokens(next, shown).length;
    if (next === original) return { file: abs, written: false, secrets, encrypted: 0 };
    await writeFileAtomic(abs, next);
    return { file: abs, written: true, secrets, encrypted };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every `!plain <scalar>` of the edited text with its decoded value; the scan must agree with a YAML parse. */
export function findPlainValues(text: string, file?: string): PlainValue[] {
  const found: (PlainValue & { line: number })[] = [];
  for (const m of text.matchAll(PLAIN_RE)) {
    if (inComment(text, m.index)) continue;
    const scalar = m[1] ?? m[2] ?? m[3]!;
    const line = lineAt(text, m.index);
    let value: unknown;
    try {
      value = yaml.load(`!!str ${scalar}`, { schema: yaml.CORE_SCHEMA });
    } catch {
      throw new InputError('SECRET_ERROR', 'unreadable !plain value', { file, line });
    }
    found.push({ value: String(value), start: m.index, end: m.index + m[0].length, line });
  }
  crossCheck(
    text,
    PLAIN_TAG,
    found.map((p) => ({ at: p.start, value: p.value })),
    'unsupported !plain value: write each as `!plain "<value>"` (a quoted scalar on one line)',
    file,
  );
  for (const p of found) {
    if (p.value.length < MIN_SECRET_LENGTH) {
      throw new InputError(
        'SECRET_ERROR',
        `secret shorter than ${MIN_SECRET_LENGTH} characters cannot be masked`,
        {
          file,
          line: p.line,
        },
      );
    }
  }
  return found;
}

/** A YAML double-quoted scalar for any string (JSON's escapes, plus the characters YAML wants escaped). */
export function yamlQuote(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Run the editor on the file and wait. The editor string is the user's own command (like git's core.editor);
 * the file path travels as a positional argument, never inside the command text.
 */
async function runEditor(editor: string, file: string, dir: string): Promise<void> {
  // The editor needs no identity or job store: it gets the scrubbed environment hooks get (child-env.ts).
  const child = spawn('/bin/sh', ['-c', `${editor} "$@"`, 'orch-editor', file], {
    stdio: 'inherit',
    env: scrubbedEnv(),
  });
  // Ctrl-C belongs to the editor; a termination signal ends it and still removes the plaintext copy.
  const ignore = () => undefined;
  const terminate = (sig: NodeJS.Signals) => {
    child.kill(sig);
    rmSync(dir, { recursive: true, force: true });
    process.exit(128 + (os.constants.signals[sig] ?? 15));
  };
  process.on('SIGINT', ignore);
  process.on('SIGTERM', terminate);
  process.on('SIGHUP', terminate);
  try {
    const status = await new Promise<number | string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 1));
    });
    if (status !== 0) {
      throw new OrchError(
        'BAD_INPUT',
        `editor exited with status ${status}; the pillar file was not changed`,
      );
    }
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', terminate);
    process.off('SIGHUP', terminate);
  }
}

function displayName(root: string, abs: string): string {
  const rel = path.relative(root, abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
