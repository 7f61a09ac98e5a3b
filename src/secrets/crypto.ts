// age encryption of single pillar values. Ciphertext form (what follows `!secret` in YAML): standard base64 of
// the binary age file, on one line, so a changed value is a one-line diff. Armored age text (-----BEGIN AGE
// ENCRYPTED FILE-----) is accepted on decryption too. This module never logs or echoes plaintext or ciphertext.
import { Decrypter, Encrypter, armor } from 'age-encryption';
import { OrchError, errorMessage } from '../errors.js';

/** Base64 of "age-encryption.org": every binary age file in our one-line form starts with it. */
const AGE_B64_PREFIX = 'YWdlLWVuY3J5cHRpb24ub3Jn';
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const BASE64_TOKEN = /^[A-Za-z0-9+/]+={0,2}$/;

/** Thrown when a value cannot be decrypted; `reason` is safe to show (no plaintext, no ciphertext). */
export class DecryptError extends OrchError {
  constructor(readonly reason: string) {
    super('SECRET_ERROR', reason);
  }
}

/** Encrypt plaintext to every recipient; returns the one-line base64 ciphertext. */
export async function encryptValue(plaintext: string, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new OrchError('SECRET_ERROR', 'no recipients to encrypt to');
  const e = new Encrypter();
  for (const r of recipients) {
    try {
      e.addRecipient(r);
    } catch (err) {
      throw new OrchError('SECRET_ERROR', `invalid recipient '${r}': ${errorMessage(err)}`, { cause: err });
    }
  }
  const file = await e.encrypt(plaintext);
  return Buffer.from(file).toString('base64');
}

/** Decrypt a ciphertext (one-line base64 or armored) with any of the identities; throws DecryptError. */
export async function decryptValue(ciphertext: string, identities: readonly string[]): Promise<string> {
  if (identities.length === 0) throw new DecryptError('no age identity available');
  const file = decodeCiphertext(ciphertext);
  const d = new Decrypter();
  for (const id of identities) {
    try {
      d.addIdentity(id);
    } catch {
      // Never echo the identity: it is a private key.
      throw new DecryptError('an age identity is malformed');
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = await d.decrypt(file);
  } catch (err) {
    const msg = errorMessage(err);
    if (/no identity matched/i.test(msg)) {
      throw new DecryptError('encrypted to other recipients (none of the current identities match)');
    }
    // The library's messages name format parts ("invalid version line", "invalid tag"), never data.
    throw new DecryptError(`malformed or tampered ciphertext (${msg})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DecryptError('decrypted value is not valid UTF-8');
  }
  if (looksLikeAgeCiphertext(text)) {
    throw new DecryptError('decrypted value is itself age ciphertext (encrypted twice?)');
  }
  return text;
}

/** True when text looks like an age file in any of its forms (binary header, armor, our base64). */
export function looksLikeAgeCiphertext(text: string): boolean {
  const t = text.trim();
  return t.startsWith('age-encryption.org/') || t.startsWith(ARMOR_BEGIN) || t.startsWith(AGE_B64_PREFIX);
}

/** The binary age file behind a ciphertext string; throws DecryptError when it is not one. */
function decodeCiphertext(ciphertext: string): Uint8Array {
  const t = ciphertext.trim();
  if (t.startsWith(ARMOR_BEGIN)) {
    try {
      return armor.decode(t);
    } catch (err) {
      throw new DecryptError(`malformed armored ciphertext (${errorMessage(err)})`);
    }
  }
  if (!BASE64_TOKEN.test(t) || t.length % 4 !== 0)
    throw new DecryptError('malformed ciphertext (not base64)');
  if (!t.startsWith(AGE_B64_PREFIX)) throw new DecryptError('malformed ciphertext (not an age file)');
  return new Uint8Array(Buffer.from(t, 'base64'));
}
