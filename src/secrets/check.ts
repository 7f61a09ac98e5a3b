// `orch secrets check`: does every `!secret` in pillar/ decrypt with the current identity? Reads only; reports
// failures by file:line with a reason that never contains plaintext or ciphertext.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { InputError, errorMessage } from '../errors.js';
import { loadIdentities } from './identity.js';
import { findSecretTokens, listPillarFiles } from './pillar-text.js';
import { tryDecrypt } from './resolver.js';

export interface CheckFailure {
  file: string;
  line?: number;
  reason: string;
}

export interface CheckResult {
  /** Identity source used. */
  source: string;
  files: number;
  secrets: number;
  /** Secrets that decrypted. */
  ok: number;
  failures: CheckFailure[];
}

/** Try to decrypt every pillar secret; identity problems throw SECRET_ERROR, per-secret problems are listed. */
export async function checkPillar(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CheckResult> {
  const { identities, source } = await loadIdentities(env);
  const result: CheckResult = { source, files: 0, secrets: 0, ok: 0, failures: [] };
  for (const file of await listPillarFiles(project.root)) {
    const rel = path.relative(project.root, file);
    let tokens;
    try {
      tokens = findSecretTokens(await readFile(file, 'utf8'), rel);
    } catch (err) {
      const line = err instanceof InputError ? err.line : undefined;
      result.failures.push({
        file: rel,
        line,
        reason: errorMessage(err).replace(`${rel}${line ? `:${line}` : ''}: `, ''),
      });
      continue;
    }
    if (tokens.length === 0) continue;
    result.files++;
    for (const t of tokens) {
      result.secrets++;
      const outcome = await tryDecrypt(t.token, identities);
      if (outcome.ok) result.ok++;
      else result.failures.push({ file: rel, line: t.line, reason: outcome.reason });
    }
  }
  return result;
}
