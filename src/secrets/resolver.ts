// The secret resolver used while rendering pillar: decrypts SecretRefs with the current identities and fails
// closed. Every plaintext it hands out is registered in the redaction registry first. Error messages name the
// pillar key, host and file, never the ciphertext or any plaintext.
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage } from '../errors.js';
import { DecryptError, decryptValue } from './crypto.js';
import { loadIdentities } from './identity.js';
import { warnPlaintextSecrets } from './plaintext.js';
import { redactor } from './redactor.js';
import type { SecretRef, SecretResolver } from './ref.js';

/** The redactor refuses shorter values; a secret it cannot mask must not be used. */
export const MIN_SECRET_LENGTH = 4;

type Outcome = { ok: true; value: string } | { ok: false; reason: string };

/** Decrypt one ciphertext to an outcome; the reason of a failure is safe to print. */
export async function tryDecrypt(ciphertext: string, identities: readonly string[]): Promise<Outcome> {
  try {
    const value = await decryptValue(ciphertext, identities);
    if (value.length < MIN_SECRET_LENGTH) {
      return {
        ok: false,
        reason: `decrypted value is shorter than ${MIN_SECRET_LENGTH} characters and cannot be masked`,
      };
    }
    return { ok: true, value };
  } catch (err) {
    return { ok: false, reason: err instanceof DecryptError ? err.reason : 'decryption failed' };
  }
}

/** A resolver over the current identities (loaded once, on first use); results are cached per ciphertext. */
export function defaultResolver(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
): SecretResolver {
  // Every run that reads pillar makes a resolver first: the place to warn about plain-text credentials.
  warnPlaintextSecrets(project.root);
  let identities: Promise<Outcome & { ids?: string[] }> | undefined;
  const cache = new Map<string, Promise<Outcome>>();

  const loadOnce = () =>
    (identities ??= loadIdentities(env).then(
      (loaded) => {
        // A private key is a secret like any other: never printed, stored or handed to a hook.
        for (const id of loaded.identities) redactor.add(id);
        return { ok: true as const, value: loaded.source, ids: loaded.identities };
      },
      (err: unknown) => ({ ok: false as const, reason: errorMessage(err) }),
    ));

  return {
    async decrypt(ref: SecretRef, where: { host: string; keyPath: string; file?: string }): Promise<string> {
      let pending = cache.get(ref.ciphertext);
      if (!pending) {
        pending = loadOnce().then((ids) => (ids.ok ? tryDecrypt(ref.ciphertext, ids.ids ?? []) : ids));
        cache.set(ref.ciphertext, pending);
      }
      const outcome = await pending;
      if (!outcome.ok) {
        const file = where.file ? ` (${displayPath(project.root, where.file)})` : '';
        throw new OrchError(
          'SECRET_ERROR',
          `cannot decrypt pillar key '${where.keyPath}' for host ${where.host}${file}: ${outcome.reason}`,
        );
      }
      redactor.add(outcome.value);
      return outcome.value;
    },
  };
}

/** A path relative to the project root when it lies inside it. */
function displayPath(root: string, file: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
