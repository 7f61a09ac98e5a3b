// Work that does not compile pillar (`orch run`) can still print a project secret: a command that cats a config
// file. When an identity is available, every `!secret` of the project's pillar is decrypted through the usual
// resolver (which registers each plaintext in the redactor) before anything is printed or recorded. Without an
// identity, or for a value that does not decrypt, nothing is said and the work goes on: masking is best effort
// there, and `orch secrets check` is the place that reports undecryptable values.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { loadIdentities } from './identity.js';
import { findSecretTokens, listPillarFiles } from './pillar-text.js';
import { SecretRef } from './ref.js';
import { defaultResolver } from './resolver.js';

/** Decrypt and register every pillar secret of the project; returns how many were registered. */
export async function registerProjectSecrets(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    await loadIdentities(env);
  } catch {
    return 0;
  }
  const resolver = defaultResolver(project, env);
  let registered = 0;
  let files: string[];
  try {
    files = await listPillarFiles(project.root);
  } catch {
    return 0;
  }
  for (const file of files) {
    const rel = path.relative(project.root, file);
    let tokens;
    try {
      tokens = findSecretTokens(await readFile(file, 'utf8'), rel);
    } catch {
      continue;
    }
    for (const t of tokens) {
      try {
        await resolver.decrypt(new SecretRef(t.token), { host: '(all)', keyPath: `line ${t.line}`, file });
        registered++;
      } catch {
        /* not decryptable with this identity: not masked, not reported here */
      }
    }
  }
  return registered;
}
