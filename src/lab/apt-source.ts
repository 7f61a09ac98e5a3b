// The Debian mirror this machine's apt uses, read from /etc/apt/sources.list and sources.list.d; images are built
// from it and from nowhere else. Parsing is pure; one function reads the files.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { OrchError } from '../errors.js';

/** Codenames of Debian releases (a source serving one of them is Debian's archive or a mirror of it). */
const DEBIAN_CODENAMES = ['buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid'];

interface Source {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

/** One-line format: `deb [opts] URI SUITE COMPONENT...`. */
function parseOneLine(text: string): Source[] {
  const out: Source[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const words = line.replace(/\[[^\]]*\]/, ' ').split(/\s+/);
    const [type, uri, suite, ...components] = words;
    if (type && uri && suite) out.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return out;
}

/** deb822 format (`.sources`): stanzas of `Field: values`, separated by blank lines. */
function parseDeb822(text: string): Source[] {
  const out: Source[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string[]>();
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim().split(/\s+/).filter(Boolean));
    }
    if (fields.get('enabled')?.[0] === 'no') continue;
    const src: Source = {
      types: fields.get('types') ?? [],
      uris: fields.get('uris') ?? [],
      suites: fields.get('suites') ?? [],
      components: fields.get('components') ?? [],
    };
    if (src.uris.length > 0) out.push(src);
  }
  return out;
}

/**
 * The first `deb` source serving a Debian release's own suite (a codename, not -updates or -security) with
 * component main: the archive debootstrap can build every supported release from. Undefined when none.
 */
export function debianMirror(files: ReadonlyArray<{ name: string; text: string }>): string | undefined {
  for (const f of files) {
    const sources = f.name.endsWith('.sources') ? parseDeb822(f.text) : parseOneLine(f.text);
    for (const s of sources) {
      if (!s.types.includes('deb') || !s.components.includes('main')) continue;
      if (!s.suites.some((suite) => DEBIAN_CODENAMES.includes(suite))) continue;
      const uri = s.uris.find((u) => /^https?:\/\//.test(u) && !/debian-security/.test(u));
      if (uri) return uri.replace(/\/+$/, '');
    }
  }
  return undefined;
}

/** The mirror of this machine's apt configuration; LAB_ERROR when it has none. */
export function machineMirror(etcApt = '/etc/apt'): string {
  const files: Array<{ name: string; text: string }> = [];
  const main = path.join(etcApt, 'sources.list');
  if (existsSync(main)) files.push({ name: main, text: readFileSync(main, 'utf8') });
  const dir = path.join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir).sort()) {
      if (entry.endsWith('.list') || entry.endsWith('.sources'))
        files.push({ name: entry, text: readFileSync(path.join(dir, entry), 'utf8') });
    }
  }
  const mirror = debianMirror(files);
  if (!mirror) {
    throw new OrchError(
      'LAB_ERROR',
      `no Debian archive among the apt sources in ${etcApt}: cannot build images`,
    );
  }
  return mirror;
}
