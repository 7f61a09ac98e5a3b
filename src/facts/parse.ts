// Pure parser of the facts probe's output (see script.ts). Reads text only; never throws: a missing or garbled
// section leaves its facts at 'unknown' / empty, so a half-answer from an odd host is still usable.
import type { Facts, InitSystem, OsFamily, PkgTool, PostgresCluster } from './types.js';
import { FACTS_MARKER } from './script.js';

type Sections = Map<string, string[]>;

/** Split the output into sections by marker line; text before the first marker is ignored. */
export function splitSections(output: string): Sections {
  const sections: Sections = new Map();
  let current: string[] | undefined;
  for (const raw of String(output ?? '').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(FACTS_MARKER)) {
      const name = line.slice(FACTS_MARKER.length).trim();
      current = [];
      sections.set(name, current);
    } else if (current) {
      current.push(line);
    }
  }
  return sections;
}

/** True when the probe ran to its end marker (the output was not cut short). */
export function factsComplete(output: string): boolean {
  return splitSections(output).has('end');
}

/** Parse the facts probe's output into Facts; tolerant of missing sections and odd lines. */
export function parseFacts(output: string): Facts {
  const s = splitSections(output);
  const uname = keyValues(s.get('uname') ?? []);
  const osRelease = parseOsRelease(s.get('os-release') ?? []);
  const kernel = uname.get('s') || 'unknown';
  const kernelRelease = uname.get('r') || 'unknown';
  const osFamily = familyOf(kernel, osRelease);
  const distro = distroOf(kernel, osRelease);
  const osVersion = versionOf(kernel, kernelRelease, osRelease, firstLine(s.get('freebsd-version')));
  const postgres = parsePostgres(s.get('postgres') ?? [], osFamily);
  return {
    kernel,
    kernelRelease,
    osFamily,
    distro,
    osVersion,
    hostname: firstLine(s.get('hostname')) || 'unknown',
    arch: uname.get('m') || 'unknown',
    init: initOf(firstLine(s.get('init'))),
    pkgTool: pkgToolOf(firstLine(s.get('pkgtool'))),
    postgresUser: firstLine(s.get('pguser')) || 'postgres',
    postgres,
  };
}

function firstLine(lines: string[] | undefined): string {
  return (lines ?? []).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function keyValues(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** os-release(5): KEY=value, the value optionally in single or double quotes with backslash escapes. */
function parseOsRelease(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out.set(m[1]!, v);
  }
  return out;
}

function familyOf(kernel: string, osr: Map<string, string>): OsFamily {
  if (kernel === 'FreeBSD') return 'FreeBSD';
  const ids = [osr.get('ID') ?? '', ...(osr.get('ID_LIKE') ?? '').split(/\s+/)].map((x) => x.toLowerCase());
  if (ids.some((id) => id === 'debian' || id === 'ubuntu')) return 'Debian';
  if (ids.some((id) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol'].includes(id)))
    return 'RedHat';
  return 'unknown';
}

function distroOf(kernel: string, osr: Map<string, string>): string {
  if (kernel === 'FreeBSD') return 'freebsd';
  return (osr.get('ID') ?? '').toLowerCase() || 'unknown';
}

function versionOf(
  kernel: string,
  release: string,
  osr: Map<string, string>,
  freebsdVersion: string,
): string {
  if (kernel === 'FreeBSD') {
    // 14.1-RELEASE-p5 -> 14.1, like VERSION_ID on Linux; the kernel release is the fallback.
    const m = /^(\d+(?:\.\d+)?)/.exec(freebsdVersion) ?? /^(\d+(?:\.\d+)?)/.exec(release);
    return m ? m[1]! : 'unknown';
  }
  return osr.get('VERSION_ID') || 'unknown';
}

function initOf(word: string): InitSystem {
  return word === 'systemd' || word === 'sysvinit' || word === 'rc.d' ? word : 'unknown';
}

function pkgToolOf(word: string): PkgTool {
  switch (word) {
    case 'apt-get':
    case 'apt':
      return 'apt';
    case 'dnf':
    case 'yum':
    case 'pkg':
      return word;
    default:
      return 'unknown';
  }
}

/** Tab-separated `kind\tkey=value\t...` lines; values may hold spaces, never tabs. */
function record(line: string): { kind: string; fields: Map<string, string> } | undefined {
  const parts = line.split('\t');
  const kind = parts[0]?.trim();
  if (!kind || parts.length < 2) return undefined;
  const fields = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq > 0) fields.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return { kind, fields };
}

/** Default socket directory per family when no cluster's conf names one. */
export function defaultSocketDir(family: OsFamily): string {
  return family === 'Debian' ? '/var/run/postgresql' : '/tmp';
}

function versionKey(v: string): number[] {
  return v.split('.').map((n) => parseInt(n, 10) || 0);
}

function compareVersions(a: string, b: string): number {
  const x = versionKey(a);
  const y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const VERSION_RE = /^\d+(\.\d+)?$/;

function parsePostgres(lines: string[], family: OsFamily): Facts['postgres'] {
  const binDirs: Record<string, string> = {};
  const clusters: PostgresCluster[] = [];
  let socketDir = '';
  for (const line of lines) {
    const r = record(line);
    if (!r) continue;
    const version = r.fields.get('version') ?? '';
    if (!VERSION_RE.test(version)) continue;
    if (r.kind === 'bin') {
      const dir = r.fields.get('dir');
      if (dir && !(version in binDirs)) binDirs[version] = dir;
    } else if (r.kind === 'cluster') {
      const dataDir = r.fields.get('data') ?? '';
      const name = r.fields.get('name') || 'data';
      if (!dataDir || clusters.some((c) => c.version === version && c.name === name)) continue;
      const port = parseInt(r.fields.get('port') ?? '', 10);
      clusters.push({
        version,
        name,
        dataDir,
        confDir: r.fields.get('conf') || dataDir,
        port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 5432,
        running: r.fields.get('running') === 'yes',
      });
      const sock = r.fields.get('socket') ?? '';
      if (!socketDir && sock.startsWith('/')) socketDir = sock;
    }
  }
  const versions = Object.keys(binDirs).sort(compareVersions);
  clusters.sort((a, b) => compareVersions(a.version, b.version) || a.name.localeCompare(b.name));
  return { versions, binDirs, clusters, socketDir: socketDir || defaultSocketDir(family) };
}
