// Presenting a compiled pillar: a copy with secrets masked, as YAML or JSON. Masking goes through the process-wide
// redactor (every decrypted secret is registered there by compilePillar); undecrypted SecretRefs show as
// '<secret>'. Never prints ciphertext or plaintext of a secret.
import yaml from 'js-yaml';
import { MASK, redactor } from '../secrets/redactor.js';
import { SecretRef } from '../secrets/ref.js';
import { isPlainObject } from './merge.js';

export { MASK };

/** A copy of `pillar` where decrypted secret values read '********' and SecretRefs read '<secret>'. */
export function maskSecrets<T>(pillar: T): T {
  return maskValue(pillar) as T;
}

/** Masked pillar as YAML text (or JSON with `format: 'json'`), ending with a newline. */
export function formatPillar(pillar: Record<string, unknown>, format: 'yaml' | 'json'): string {
  const masked = maskSecrets(pillar);
  const text =
    format === 'json'
      ? `${JSON.stringify(masked, null, 2)}\n`
      : Object.keys(masked).length === 0
        ? '{}\n'
        : yaml.dump(masked, { noRefs: true, lineWidth: -1 });
  // Last line of defence: whatever a secret turned into while being formatted, mask it again.
  return redactor.redact(text);
}

function maskValue(value: unknown): unknown {
  if (value instanceof SecretRef) return '<secret>';
  if (typeof value === 'string') return redactor.redact(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: maskValue(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
