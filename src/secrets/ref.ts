// An encrypted pillar value as it sits in YAML (`!secret <ciphertext>`), before decryption.

export class SecretRef {
  constructor(readonly ciphertext: string) {}
  toJSON(): string {
    return '<secret>';
  }
  toString(): string {
    return '<secret>';
  }
}

/** Decrypts SecretRefs for one host's pillar; implemented by the secrets store. */
export interface SecretResolver {
  /** Plaintext of ref; throws OrchError('SECRET_ERROR') naming keyPath and host when it cannot. */
  decrypt(ref: SecretRef, where: { host: string; keyPath: string; file?: string }): Promise<string>;
}
