// The recipients list `pillar/.recipients`: one age1... public key per line, `#` comments. The repo says who
// can decrypt its secrets; encryption always goes to everyone listed. This module edits only that file, keeping
// comments and the order of the other lines.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Encrypter } from 'age-encryption';
import type { ProjectConfig } from '../config/project.js';
import { InputError, OrchError, errorMessage } from '../errors.js';

/** Path of the recipients file of a project. */
export function recipientsFile(project: Pick<ProjectConfig, 'root'>): string {
  return path.join(project.root, 'pillar', '.recipients');
}

/** Throw BAD_INPUT unless r is a recipient age can encrypt to. */
export function validateRecipient(r: string, where: { file?: string; line?: number } = {}): void {
  if (!r.startsWith('age1'))
    throw new InputError('BAD_INPUT', `not an age recipient (expected age1...): '${r}'`, where);
  try {
    new Encrypter().addRecipient(r);
  } catch (err) {
    throw new InputError('BAD_INPUT', `malformed age recipient '${r}': ${errorMessage(err)}`, where);
  }
}

/** Parse recipients text; comments (whole-line or trailing) and blank lines are skipped. */
export function parseRecipients(text: string, file?: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw);
    if (line === '') return;
    validateRecipient(line, { file, line: i + 1 });
    if (!out.includes(line)) out.push(line);
  });
  return out;
}

/** The project's recipients; throws SECRET_ERROR when the file is missing or lists none. */
export async function readRecipients(project: Pick<ProjectConfig, 'root'>): Promise<string[]> {
  const file = recipientsFile(project);
  if (!existsSync(file)) {
    throw new OrchError(
      'SECRET_ERROR',
      `no recipients file ${file}: add one with 'orch secrets recipients add age1...'`,
    );
  }
  const list = parseRecipients(await readFile(file, 'utf8'), file);
  if (list.length === 0) throw new OrchError('SECRET_ERROR', `${file} lists no recipients`);
  return list;
}

/** Append a recipient; returns false when it was already listed. */
export async function addRecipient(
  project: Pick<ProjectConfig, 'root'>,
  recipient: string,
): Promise<boolean> {
  validateRecipient(recipient);
  const file = recipientsFile(project);
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  if (parseRecipients(text, file).includes(recipient)) return false;
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await replaceFile(file, `${text}${sep}${recipient}\n`);
  return true;
}

/** Remove a recipient's lines; returns false when it was not listed. Refuses to remove the last one. */
export async function removeRecipient(
  project: Pick<ProjectConfig, 'root'>,
  recipient: string,
): Promise<boolean> {
  const file = recipientsFile(project);
  if (!existsSync(file)) return false;
  const text = await readFile(file, 'utf8');
  const current = parseRecipients(text, file);
  if (!current.includes(recipient)) return false;
  if (current.length === 1) {
    throw new OrchError(
      'BAD_INPUT',
      `refusing to remove the last recipient of ${file}: nobody could decrypt new secrets`,
    );
  }
  const kept = text.split('\n').filter((raw) => stripComment(raw) !== recipient);
  await replaceFile(file, kept.join('\n'));
  return true;
}

function stripComment(raw: string): string {
  const hash = raw.indexOf('#');
  return (hash >= 0 ? raw.slice(0, hash) : raw).trim();
}

async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}
