// A pillar value under a key that names a credential (password, passwd, secret, token, private_key, api_key as the
// last path segment, any case, also as a suffix like replication_password or dbPassword) should be a `!secret`.
// When it is a plain string, orch warns once per process and project, naming file, line and key, and masks the
// value like a decrypted secret. Files that only parse after templating are scanned line by line instead.
import { readFileSync } from 'node:fs';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { lineOf, parseYaml } from '../render/yaml.js';
import { MIN_MASKED_LENGTH, redactor } from './redactor.js';

const CREDENTIAL = /(?:^|[_.-])(?:password|passwd|secret|token|private_?key|api_?key)$/;

export interface PlaintextFinding {
  /** Path relative to the project root, e.g. pillar/postgres.yaml. */
  file: string;
  line?: number;
  keyPath: string;
  value: string;
}

/** True for a key that names a credential. */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL.test(key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
}

/** Plain-string values under credential keys in the project's pillar files (without their values' templating). */
export function findPlaintextSecrets(root: string): PlaintextFinding[] {
  const out: PlaintextFinding[] = [];
  for (const file of pillarFiles(path.join(root, 'pillar'))) {
    const display = path.relative(root, file);
    const text = readFileSync(file, 'utf8');
    let doc: unknown;
    try {
      doc = parseYaml(text, display, { secrets: true });
    } catch {
      out.push(...scanLines(text, display));
      continue;
    }
    walk(doc, [], display, out);
  }
  return out;
}

function walk(node: unknown, prefix: string[], file: string, out: PlaintextFinding[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => walk(v, [...prefix, String(i)], file, out));
    return;
  }
  if (!node || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype) return;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (typeof v === 'string' && isCredentialKey(k) && looksLikeValue(v)) {
      out.push({ file, line: lineOf(node, k), keyPath: [...prefix, k].join('.'), value: v });
    } else walk(v, [...prefix, k], file, out);
  }
}

/** `key: value` lines of a file that is not YAML before templating (the key path is then just the key). */
function scanLines(text: string, file: string): PlaintextFinding[] {
  const out: PlaintextFinding[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?(["']?)([A-Za-z0-9_.-]+)\1\s*:\s+(.*?)\s*$/.exec(line);
    if (!m || !isCredentialKey(m[2]!)) return;
    const raw = m[3]!.replace(/\s+#.*$/, '');
    if (/^(!secret\b|[|>&*[{]|~$|null$)/i.test(raw)) return;
    const value = raw.replace(/^(["'])(.*)\1$/, '$2');
    if (looksLikeValue(value)) out.push({ file, line: i + 1, keyPath: m[2]!, value });
  });
  return out;
}

// Empty values and values made by templating ({{ ... }}) are not judged here.
const looksLikeValue = (v: string) => v.trim() !== '' && !/\{\{|\{%/.test(v);

function pillarFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n) && n !== 'top.yaml' && n !== 'top.yml')
    .map((n) => path.join(dir, n))
    .filter((f) => statSync(f).isFile())
    .sort();
}

const warnedRoots = new Set<string>();

/** Warn (once per process and project root) about every plaintext credential in pillar; mask their values. */
export function warnPlaintextSecrets(
  root: string,
  warn: (message: string) => void = (m) => process.stderr.write(`orch: warning: ${m}\n`),
): PlaintextFinding[] {
  if (warnedRoots.has(root)) return [];
  warnedRoots.add(root);
  let found: PlaintextFinding[];
  try {
    found = findPlaintextSecrets(root);
  } catch {
    return []; // an unreadable pillar is reported by the loader itself
  }
  for (const f of found) {
    if (f.value.length >= MIN_MASKED_LENGTH) redactor.add(f.value);
    warn(
      `${f.file}${f.line ? `:${f.line}` : ''}: pillar key '${f.keyPath}' holds a plain-text value; ` +
        `encrypt it with 'orch secrets encrypt' and write it as !secret`,
    );
  }
  return found;
}
