// Pure known_hosts text handling for the lab export: replace the lines of given hosts, keep every other line.

/** One host's public keys as `keytype base64` pairs (comments dropped). */
export interface HostKeys {
  name: string;
  ip: string;
  keys: string[];
}

/** The patterns of a known_hosts line's host field, with `[host]:22` reduced to `host`; [] for lines we never touch. */
function linePatterns(line: string): string[] {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return [];
  // Marker lines (@revoked, @cert-authority) are the admin's policy, not a host's key: never replaced.
  if (t.startsWith('@')) return [];
  const hostField = t.split(/\s+/)[0]!;
  if (hostField.startsWith('|')) return []; // hashed entries cannot be matched by name
  return hostField.split(',').map((p) => p.replace(/^\[(.*)\]:22$/, '$1'));
}

/** The known_hosts line(s) for one host: `name,address keytype base64`. */
export function knownHostsLines(host: HostKeys): string[] {
  return host.keys.map((k) => `${host.name},${host.ip} ${k}`);
}

/**
 * Merge: drop every line naming one of the given names or addresses (`drop`), then append the lines of `add`.
 * Lines of other hosts, comments, marker lines and hashed entries are kept in order.
 */
export function mergeKnownHosts(
  existing: string,
  add: readonly HostKeys[],
  drop: readonly string[] = [],
): string {
  const gone = new Set<string>(drop);
  for (const h of add) {
    gone.add(h.name);
    gone.add(h.ip);
  }
  const kept = existing
    .split('\n')
    .filter((line, i, all) => !(i === all.length - 1 && line === ''))
    .filter((line) => !linePatterns(line).some((p) => gone.has(p)));
  const lines = [...kept, ...add.flatMap(knownHostsLines)];
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The `keytype base64` part of a `.pub` file's first line, or undefined if it is not a key. */
export function parsePublicKey(text: string): string | undefined {
  const m = /^\s*(\S+)\s+([A-Za-z0-9+/=]+)/.exec(text);
  return m ? `${m[1]} ${m[2]}` : undefined;
}
