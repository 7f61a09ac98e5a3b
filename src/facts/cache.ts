// Facts kept for offline work: the last facts gathered from each host, one file per host in the state dir
// (<stateDir>/facts/<host>.json, mode 0600, directory 0700), and facts given in a file (`--facts`). Facts are what
// the facts script reports (OS, init, package tool, PostgreSQL layout): no pillar, no secrets, no environment.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { Facts } from './types.js';

/** Where facts came from, for saying so. */
export type FactsSource =
  | { kind: 'gathered' }
  | { kind: 'cache'; file: string; gatheredAt: string }
  | { kind: 'file'; file: string }
  | { kind: 'none' };

interface CacheDoc {
  host: string;
  gatheredAt: string;
  facts: Facts;
}

export function factsCacheFile(stateDir: string, host: string): string {
  return path.join(stateDir, 'facts', `${encodeURIComponent(host)}.json`);
}

/** Store a host's facts as its last known ones (atomically: a reader never sees half a file). */
export function writeCachedFacts(stateDir: string, host: string, facts: Facts, now = new Date()): void {
  const file = factsCacheFile(stateDir, host);
  const dir = path.dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const doc: CacheDoc = { host, gatheredAt: now.toISOString(), facts };
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Store, ignoring failures: a read-only state dir must not fail the run that gathered them. */
export function tryWriteCachedFacts(stateDir: string, host: string, facts: Facts): void {
  try {
    writeCachedFacts(stateDir, host, facts);
  } catch {
    /* the cache is a convenience */
  }
}

/** The host's last gathered facts, or undefined when none were stored. */
export function readCachedFacts(
  stateDir: string,
  host: string,
): { facts: Facts; source: Extract<FactsSource, { kind: 'cache' }> } | undefined {
  const file = factsCacheFile(stateDir, host);
  if (!existsSync(file)) return undefined;
  const doc = parse(file) as Partial<CacheDoc>;
  if (!isFacts(doc.facts))
    throw new InputError('BAD_INPUT', `not a facts cache file (no facts in it)`, { file });
  return { facts: doc.facts, source: { kind: 'cache', file, gatheredAt: String(doc.gatheredAt ?? '?') } };
}

/**
 * Facts for `host` from a file: a cache file, a bare facts object, or the output of `orch facts <target> -o json`
 * (the host's entry is picked).
 */
export function readFactsFile(file: string, host: string): Facts {
  const doc = parse(file);
  if (isFacts(doc)) return doc;
  const cached = (doc as { facts?: unknown }).facts;
  if (isFacts(cached)) return cached;
  const hosts = (doc as { hosts?: { host?: string; facts?: unknown }[] }).hosts;
  if (Array.isArray(hosts)) {
    const entry = hosts.find((h) => h.host === host);
    if (entry && isFacts(entry.facts)) return entry.facts;
    throw new InputError('BAD_INPUT', `no facts of ${host} in this file`, { file });
  }
  throw new InputError(
    'BAD_INPUT',
    'not a facts file: expected the JSON of `orch facts <host> -o json`, a facts cache file or a facts object',
    { file },
  );
}

function parse(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(
      'BAD_INPUT',
      `cannot read facts: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(
      'BAD_INPUT',
      `facts are not JSON: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
}

function isFacts(v: unknown): v is Facts {
  if (!v || typeof v !== 'object') return false;
  const f = v as Partial<Facts>;
  return typeof f.osFamily === 'string' && typeof f.kernel === 'string' && typeof f.distro === 'string';
}

/** One line saying where the facts of a host came from. */
export function describeFactsSource(host: string, s: FactsSource): string {
  switch (s.kind) {
    case 'gathered':
      return `facts of ${host}: gathered from the host now`;
    case 'cache':
      return `facts of ${host}: cached from the last run (${s.gatheredAt}, ${s.file})`;
    case 'file':
      return `facts of ${host}: from ${s.file}`;
    case 'none':
      return (
        `facts of ${host}: none known (no cached run, no --facts): values that depend on facts show their ` +
        `defaults, which may not be this host's OS; run \`orch facts ${host}\` once or pass --facts <file>`
      );
  }
}
