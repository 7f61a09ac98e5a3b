// `orch secrets rekey`: re-encrypt every `!secret` of every pillar YAML file to the current recipients, in
// place. Only the ciphertext tokens change; every other byte of each file is kept. Everything is decrypted
// before anything is written, so a secret that cannot be decrypted leaves all files untouched.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { OrchError } from '../errors.js';
import { encryptValue } from './crypto.js';
import { loadIdentities } from './identity.js';
import { findSecretTokens, listPillarFiles, replaceSpans, writeFileAtomic } from './pillar-text.js';
import { readRecipients } from './recipients.js';
import { tryDecrypt } from './resolver.js';

export interface RekeyResult {
  recipients: string[];
  /** Files that hold secrets (relative to the project root) and how many each. */
  files: { file: string; secrets: number }[];
}

/** Re-encrypt every pillar secret to the current recipients; throws SECRET_ERROR listing file:line failures. */
export async function rekeyPillar(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RekeyResult> {
  const recipients = await readRecipients(project);
  const { identities } = await loadIdentities(env);
  const plans: { file: string; text: string; spans: { start: number; end: number; text: string }[] }[] = [];
  const failures: string[] = [];
  const plain = new Map<string, string>();
  for (const file of await listPillarFiles(project.root)) {
    const rel = path.relative(project.root, file);
    const text = await readFile(file, 'utf8');
    const tokens = findSecretTokens(text, rel);
    if (tokens.length === 0) continue;
    const spans = [];
    for (const t of tokens) {
      let value = plain.get(t.token);
      if (value === undefined) {
        const outcome = await tryDecrypt(t.token, identities);
        if (!outcome.ok) {
          failures.push(`${rel}:${t.line}: ${outcome.reason}`);
          continue;
        }
        value = outcome.value;
        plain.set(t.token, value);
      }
      // Each occurrence gets its own fresh ciphertext, as a new encryption would.
      spans.push({ start: t.start, end: t.end, text: await encryptValue(value, recipients) });
    }
    plans.push({ file, text, spans });
  }
  if (failures.length > 0) {
    throw new OrchError(
      'SECRET_ERROR',
      `rekey aborted, no file changed; cannot decrypt:\n  ${failures.join('\n  ')}`,
    );
  }
  for (const p of plans) await writeFileAtomic(p.file, replaceSpans(p.text, p.spans));
  return {
    recipients,
    files: plans.map((p) => ({ file: path.relative(project.root, p.file), secrets: p.spans.length })),
  };
}
