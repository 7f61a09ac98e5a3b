// Which pillar key a rejected value came from. Templates often receive pillar values second-hand (a state's
// `context:` built from pillar), so the value no longer knows its key; the host's pillar is searched for string
// leaves (and mapping keys) equal to it instead. Used only to word error messages.
import { redactor } from '../secrets/redactor.js';
import { SecretRef } from '../secrets/ref.js';
import { unwrapStrict } from './context.js';

const MAX_KEYS = 3;
const SECRET_KEY = /pass(word)?|secret|token|private|credential|api_?key/i;

/** Dotted key paths under which `value` sits in `pillar` (a key of a mapping is reported as that mapping's path). */
export function pillarKeysOf(pillar: unknown, value: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (found.length >= MAX_KEYS) return;
    node = unwrapStrict(node);
    if (typeof node === 'string' || typeof node === 'number') {
      if (String(node) === value && path.length) found.push(keyText(path));
      return;
    }
    if (node === null || typeof node !== 'object' || node instanceof SecretRef) return;
    const entries = Array.isArray(node)
      ? node.map((v, i) => [String(i), v] as const)
      : Object.entries(node as Record<string, unknown>);
    for (const [k, v] of entries) {
      if (k === value && !Array.isArray(node)) found.push(`a key of ${keyText(path)}`);
      walk(v, [...path, k]);
    }
  };
  walk(pillar, []);
  return found;
}

/** pillar key text: dots between segments, a segment that holds dots or odd characters in brackets. */
export function keyText(path: readonly string[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((seg, i) =>
      /^[A-Za-z0-9_-]+$/.test(seg) ? (i === 0 ? seg : `.${seg}`) : `[${JSON.stringify(seg)}]`,
    )
    .join('');
}

/** True when a value must not be shown: it holds a registered secret or sits under a secret-looking key. */
export function isSecretValue(value: string, keys: readonly string[]): boolean {
  if (redactor.redact(value) !== value) return true;
  return keys.some((k) => SECRET_KEY.test(k));
}

/** A value as shown in an error: JSON-quoted, cut to a readable length; secrets are never shown. */
export function showValue(value: string, secret: boolean): string {
  if (secret) return '(secret value not shown)';
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return shown;
}
