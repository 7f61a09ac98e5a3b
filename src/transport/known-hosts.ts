// The known_hosts file orch trusts: lookup of a host's keys, the trust decision for an offered key, and atomic
// updates (temp file + rename, mode 0600, directory 0700). Lines it does not manage (comments, @cert-authority,
// @revoked, wildcard patterns, entries of other hosts) are written back exactly as read.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  entryMatches,
  formatKnownHosts,
  isExactPattern,
  keyTypeOf,
  lookupNames,
  makeEntry,
  parseKnownHosts,
  withPatterns,
  type HostKeyTarget,
  type KnownHostEntry,
  type KnownHostsLine,
} from './known-hosts-format.js';

export {
  fingerprint,
  keyTypeOf,
  lookupNames,
  type HostKeyTarget,
  type KnownHostEntry,
} from './known-hosts-format.js';

/** The verdict on a key a host offered. */
export type HostKeyStatus =
  /** Some entry for this host holds exactly this key. */
  | { status: 'known'; entry: KnownHostEntry }
  /** Nothing recorded for any of the host's names. */
  | { status: 'unknown' }
  /** Entries exist for the host, none with this key: refuse. `known` are the entries found. */
  | { status: 'changed'; known: KnownHostEntry[] }
  /** The key is listed under @revoked for this host: refuse. */
  | { status: 'revoked'; entry: KnownHostEntry };

/** Where each entry of the file may match: by its plain names, or (wildcards, negations, hashes) anywhere. */
interface EntryIndex {
  byName: Map<string, KnownHostEntry[]>;
  other: KnownHostEntry[];
  order: Map<KnownHostEntry, number>;
}

export class KnownHosts {
  private cache: { stamp: string; lines: KnownHostsLine[]; index?: EntryIndex } | undefined;

  constructor(readonly file: string) {}

  /** Every line of the file (re-read when the file changed on disk). */
  lines(): KnownHostsLine[] {
    const stamp = this.stamp();
    if (!this.cache || this.cache.stamp !== stamp) {
      const text = stamp === 'absent' ? '' : readFileSync(this.file, 'utf8');
      this.cache = { stamp, lines: parseKnownHosts(text) };
    }
    return this.cache.lines;
  }

  /** All entries (markers included) that match any of the host's names. */
  lookup(host: HostKeyTarget): KnownHostEntry[] {
    const names = lookupNames(host);
    // Only entries that can match are tested (a fleet's file has a line per host: scanning it all per host
    // made opening N connections cost N² matches); the same test, in file order.
    const index = this.index();
    const candidates = new Set(index.other);
    for (const n of names) for (const e of index.byName.get(n.toLowerCase()) ?? []) candidates.add(e);
    return [...candidates]
      .sort((a, b) => index.order.get(a)! - index.order.get(b)!)
      .filter((e) => names.some((n) => entryMatches(e, n)));
  }

  private index(): EntryIndex {
    const lines = this.lines();
    const cache = this.cache!;
    if (cache.index && cache.lines === lines) return cache.index;
    const index: EntryIndex = { byName: new Map(), other: [], order: new Map() };
    lines.forEach((l, i) => {
      if (l.kind !== 'entry') return;
      index.order.set(l, i);
      // Plain names only (no wildcard, negation or hash): such an entry matches exactly the names it lists.
      if (l.patterns.some((p) => /[*?!]/.test(p) || p.startsWith('|1|'))) {
        index.other.push(l);
        return;
      }
      for (const p of new Set(l.patterns.map((x) => x.toLowerCase()))) {
        const list = index.byName.get(p);
        if (list) list.push(l);
        else index.byName.set(p, [l]);
      }
    });
    cache.index = index;
    return index;
  }

  /** Every entry of every host, @revoked and @cert-authority lines included. */
  entries(): KnownHostEntry[] {
    return this.lines().filter((l): l is KnownHostEntry => l.kind === 'entry');
  }

  /** Decide about a key the host offered; every name of the host must agree (name and address). */
  check(host: HostKeyTarget, keyBlob: Buffer): HostKeyStatus {
    const keyBase64 = keyBlob.toString('base64');
    const matching = this.lookup(host);
    const revoked = matching.find((e) => e.marker === 'revoked' && e.keyBase64 === keyBase64);
    if (revoked) return { status: 'revoked', entry: revoked };
    let found: KnownHostEntry | undefined;
    const conflicting: KnownHostEntry[] = [];
    for (const name of lookupNames(host)) {
      const forName = matching.filter((e) => !e.marker && entryMatches(e, name));
      const same = forName.find((e) => e.keyBase64 === keyBase64);
      if (same) found ??= same;
      // Known under other keys only (of this type or another): the host no longer shows what we trusted.
      else conflicting.push(...forName);
    }
    if (conflicting.length) return { status: 'changed', known: [...new Set(conflicting)] };
    return found ? { status: 'known', entry: found } : { status: 'unknown' };
  }

  /** Record the key for the host under its name and address. */
  add(host: HostKeyTarget, keyBlob: Buffer): KnownHostEntry {
    if (!keyTypeOf(keyBlob)) throw new Error('not an SSH public key blob');
    const entry = makeEntry(lookupNames(host), keyBlob);
    this.update((lines) => [...lines, entry]);
    return entry;
  }

  /** Remove the host's own entries (exact names, hashed or plain), then record this key. */
  replace(host: HostKeyTarget, keyBlob: Buffer): KnownHostEntry {
    const entry = makeEntry(lookupNames(host), keyBlob);
    this.update((lines) => [...dropHost(lines, host).lines, entry]);
    return entry;
  }

  /**
   * Remove the host's names from plain entries; a line left with no names is dropped. Wildcard patterns and
   * @revoked/@cert-authority lines stay. Returns how many lines changed or went.
   */
  forget(host: HostKeyTarget): number {
    let touched = 0;
    this.update((lines) => {
      const dropped = dropHost(lines, host);
      touched = dropped.touched;
      return dropped.lines;
    });
    return touched;
  }

  private update(change: (lines: KnownHostsLine[]) => KnownHostsLine[]): void {
    // Re-read first so a change made by another orch process since our last read is not lost.
    this.cache = undefined;
    const next = change(this.lines());
    const dir = path.dirname(this.file);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, formatKnownHosts(next), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.cache = undefined;
  }

  private stamp(): string {
    try {
      const st = statSync(this.file);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'absent';
    }
  }
}

/** The lines without the host's exact names; entries with a name left keep it, markers stay untouched. */
function dropHost(
  lines: KnownHostsLine[],
  host: HostKeyTarget,
): { lines: KnownHostsLine[]; touched: number } {
  const names = lookupNames(host);
  const out: KnownHostsLine[] = [];
  let touched = 0;
  for (const line of lines) {
    if (line.kind !== 'entry' || line.marker) {
      out.push(line);
      continue;
    }
    const kept = line.patterns.filter((p) => !names.some((n) => isExactPattern(p, n)));
    if (kept.length === line.patterns.length) {
      out.push(line);
      continue;
    }
    touched++;
    if (kept.some((p) => !p.startsWith('!'))) out.push(withPatterns(line, kept));
  }
  return { lines: out, touched };
}
