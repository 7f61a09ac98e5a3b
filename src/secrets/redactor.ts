// The one redaction registry: every decrypted secret is added here, and every output path masks through it
// (stdout, stderr, diffs, job store, logs). It holds plaintext only in this process's memory.
import { secretForms } from './encodings.js';

export const MASK = '********';

/** The redactor refuses shorter values (and shorter lines of a multi-line secret are not masked on their own). */
export const MIN_MASKED_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  /**
   * Register a plaintext secret for masking, with every encoding orch or a template commonly gives it
   * (see encodings.ts). Each line of a multi-line secret is registered too, so output shown line by line (a PEM
   * key in a diff) is masked. Short values are refused.
   */
  add(secret: string): void {
    if (secret.length < MIN_MASKED_LENGTH)
      throw new Error(`secret too short to mask safely (min ${MIN_MASKED_LENGTH} characters)`);
    const values = new Set([secret]);
    if (/[\r\n]/.test(secret)) {
      for (const line of secret.split(/\r\n|\r|\n/)) {
        for (const v of [line, line.trim()]) if (v.length >= MIN_MASKED_LENGTH) values.add(v);
      }
    }
    for (const value of values) {
      for (const form of secretForms(value)) if (form.length >= MIN_MASKED_LENGTH) this.secrets.add(form);
    }
    this.pattern = null;
  }

  get size(): number {
    return this.secrets.size;
  }

  /** Replace every registered secret in text by the mask (longest match first). */
  redact(text: string): string {
    if (this.secrets.size === 0 || text.length === 0) return text;
    this.pattern ??= new RegExp(trieSource([...this.secrets]), 'g');
    return text.replace(this.pattern, MASK);
  }

  /** True when text holds a registered secret in any registered form. */
  contains(text: string): boolean {
    return this.redact(text) !== text;
  }

  /** Redact every string inside a JSON-like value, keys included (returns a copy). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    // What JSON would print for it (a SecretRef prints '<secret>', a Date its ISO text), never its fields.
    const toJSON = (value as { toJSON?: unknown } | null)?.toJSON;
    if (typeof toJSON === 'function') return this.redactDeep(toJSON.call(value) as unknown) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        Object.defineProperty(out, this.redact(k), {
          value: this.redactDeep(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out as T;
    }
    return value;
  }
}

interface TrieNode {
  end: boolean;
  next: Map<string, TrieNode>;
}

/**
 * One regex for all forms, built as a prefix tree: at each text position the engine follows one branch per
 * character instead of trying every alternative, so the cost barely grows with the number of secrets. Greedy
 * optional tails keep the longest match.
 */
function trieSource(words: string[]): string {
  const root: TrieNode = { end: false, next: new Map() };
  for (const w of words) {
    let node = root;
    for (const ch of w) {
      let child = node.next.get(ch);
      if (!child) node.next.set(ch, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  return emit(root);
}

function emit(node: TrieNode): string {
  const branches = [...node.next.entries()].map(([ch, child]) => escapeChar(ch) + emit(child));
  if (branches.length === 0) return '';
  const body = branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
  if (!node.end) return body;
  return branches.length === 1 ? `(?:${body})?` : `${body}?`;
}

function escapeChar(ch: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(ch) ? `\\${ch}` : ch;
}

/** The process-wide registry used by every output path. */
export const redactor = new Redactor();
