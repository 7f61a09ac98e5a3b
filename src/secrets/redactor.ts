// The one redaction registry: every decrypted secret is added here, and every output path masks through it
// (stdout, stderr, diffs, job store, logs). It holds plaintext only in this process's memory.

export const MASK = '********';

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  /** Register a plaintext secret (and its common encodings) for masking. Short values are refused. */
  add(secret: string): void {
    if (secret.length < 4) throw new Error('secret too short to mask safely (min 4 characters)');
    // The encodings a secret takes in what orch renders: JSON/YAML strings, URLs, .pgpass fields, SQL and
    // shell single-quoted literals.
    const forms = [
      secret,
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
      secret.replace(/([\\:])/g, '\\$1'),
      secret.replace(/'/g, "''"),
      secret.replace(/'/g, `'\\''`),
    ];
    for (const form of forms) this.secrets.add(form);
    this.pattern = null;
  }

  get size(): number {
    return this.secrets.size;
  }

  /** Replace every registered secret in text by the mask. */
  redact(text: string): string {
    if (this.secrets.size === 0 || text.length === 0) return text;
    if (!this.pattern) {
      const alternatives = [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /** Redact every string inside a JSON-like value (returns a copy). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}

/** The process-wide registry used by every output path. */
export const redactor = new Redactor();
