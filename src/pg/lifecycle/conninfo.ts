// A standby's primary_conninfo, read and rewritten as libpq key=value pairs: repointing a standby keeps every
// setting it had (user, passfile, sslmode, application_name, ...) and changes only host and port. Pure.
import { OrchError } from '../../errors.js';

export type Conninfo = Array<[string, string]>;

/** Parse a key=value conninfo (values bare or single-quoted with backslash escapes), as libpq does. */
export function parseConninfo(text: string): Conninfo {
  const out: Conninfo = [];
  let i = 0;
  const bad = (why: string) => new OrchError('COMMAND_FAILED', `unreadable primary_conninfo: ${why}`);
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw bad('a key without a value');
    const key = text.slice(i, eq).trim();
    if (!/^[a-z_]+$/.test(key)) throw bad('an unexpected key');
    i = eq + 1;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) throw bad('an unterminated quote');
        const c = text[i]!;
        if (c === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    out.push([key, value]);
  }
  return out;
}

/** One conninfo value, quoted when it is not a plain token. */
function formatValue(v: string): string {
  if (/[\0\r\n]/.test(v))
    throw new OrchError('STATE_ERROR', 'a conninfo value cannot contain NUL or a line break');
  if (v !== '' && /^[A-Za-z0-9_.\-/:@]+$/.test(v)) return v;
  return `'${v.replace(/[\\']/g, '\\$&')}'`;
}

export function formatConninfo(ci: Conninfo): string {
  return ci.map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
}

// Keys that would send the connection elsewhere than host:port: libpq takes the last of repeated keys, and a
// service (file) or hostaddr names a server of its own. The conninfo may come from another node's settings.
const REDIRECTS = new Set(['hostaddr', 'service', 'servicefile']);

/** The same conninfo pointing at host:port (host and port replaced in place, added when missing; a repeated host
 * or port, hostaddr and service dropped, as each could still name another server). */
export function repointConninfo(text: string, host: string, port: number): string {
  const out: Conninfo = [];
  const seen = new Set<string>();
  for (const [k, v] of parseConninfo(text)) {
    if (REDIRECTS.has(k)) continue;
    if (k !== 'host' && k !== 'port') {
      out.push([k, v]);
      continue;
    }
    if (seen.has(k)) continue;
    seen.add(k);
    out.push([k, k === 'host' ? host : String(port)]);
  }
  if (!seen.has('host')) out.push(['host', host]);
  if (!seen.has('port')) out.push(['port', String(port)]);
  return formatConninfo(out);
}

/** host and port of a conninfo (undefined when absent). */
export function conninfoTarget(text: string): { host?: string; port?: string } {
  const ci = parseConninfo(text);
  return {
    // As libpq reads it: the last of repeated keys.
    host: ci.findLast(([k]) => k === 'host')?.[1],
    port: ci.findLast(([k]) => k === 'port')?.[1],
  };
}
