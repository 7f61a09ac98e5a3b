// The OpenSSH client config (~/.ssh/config or the file orch.yaml / --ssh-config names) applied to inventory hosts:
// Host and Match sections, HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump (one or more hops),
// ConnectTimeout. What the inventory writes for a host (its entry or the file's defaults) wins over ssh_config.
// Resolved once when the inventory loads, so every verb, host-key lookup and message sees the same address.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { InputError } from '../errors.js';
import type { HostSpec } from './types.js';

/** Which connection settings the inventory itself gave a host (those are never taken from ssh_config). */
export interface GivenFields {
  address: boolean;
  port: boolean;
  user: boolean;
  identity: boolean;
  /** The inventory's `proxy_jump` (`none` for a direct connection), when written. */
  proxyJump?: string;
}

export interface SshConfigFile {
  file: string;
  config: SSHConfig;
}

const cache = new Map<string, { stamp: string; parsed: SshConfigFile }>();

/** Parse an ssh_config file, `Include` lines inlined where they stand (as OpenSSH reads them). */
export function readSshConfig(file: string): SshConfigFile {
  const st = statSync(file);
  const stamp = `${st.mtimeMs}:${st.size}`;
  const hit = cache.get(file);
  if (hit && hit.stamp === stamp) return hit.parsed;
  const parsed = { file, config: SSHConfig.parse(inlineIncludes(file, 0)) };
  cache.set(file, { stamp, parsed });
  return parsed;
}

function inlineIncludes(file: string, depth: number): string {
  if (depth > 16) throw configError(file, 'Include nested more than 16 deep (a loop?)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError(file, `cannot read: ${(err as Error).message}`, err);
  }
  const sshDir = path.join(os.homedir(), '.ssh');
  // OpenSSH resolves relative Include paths against ~/.ssh for the user's config.
  const base = file.startsWith(`${sshDir}${path.sep}`) ? sshDir : path.dirname(file);
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*include(?:\s*=\s*|\s+)(.+)$/i.exec(line);
      if (!m) return line;
      const out: string[] = [];
      for (const pattern of m[1]!.trim().split(/\s+/)) {
        for (const f of expandGlob(path.resolve(base, tilde(pattern.replace(/^"|"$/g, ''))))) {
          out.push(inlineIncludes(f, depth + 1));
        }
      }
      return out.join('\n');
    })
    .join('\n');
}

/** Files matching a path whose last component may hold `*` or `?` (Include's usual `config.d/*`). */
function expandGlob(p: string): string[] {
  const dir = path.dirname(p);
  const name = path.basename(p);
  if (!/[*?]/.test(name)) return existsSync(p) ? [p] : [];
  if (!existsSync(dir)) return [];
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Apply ssh_config to every host (then their jump hosts, which may be inventory hosts themselves). */
export function applySshConfig(
  hosts: Map<string, HostSpec>,
  given: Map<string, GivenFields>,
  cfg: SshConfigFile | undefined,
): void {
  const jumpsOf = new Map<string, string | undefined>();
  for (const [name, spec] of hosts) {
    const g = given.get(name) ?? { address: true, port: true, user: true, identity: true };
    const computed = cfg ? resolveFields(spec, g, cfg) : {};
    jumpsOf.set(name, g.proxyJump ?? computed.proxyJump);
  }
  for (const [name, spec] of hosts) {
    // The inventory's proxy_jump (even `none`) decides the path, whatever ssh_config's ProxyCommand says.
    if (given.get(name)?.proxyJump !== undefined) delete spec.sshUnsupported;
    const jump = jumpsOf.get(name);
    if (jump === undefined || jump.toLowerCase() === 'none') continue;
    spec.jumps = parseProxyJump(jump, spec, cfg).map((hop) => jumpHost(hop, spec, hosts, cfg));
  }
}

/** Fill the host's unset fields from ssh_config; returns its ProxyJump, if any. */
function resolveFields(
  spec: HostSpec,
  g: Omit<GivenFields, 'proxyJump'>,
  cfg: SshConfigFile,
): { proxyJump?: string } {
  const c = cfg.config.compute(spec.name, { ignoreCase: true, matchExec: false });
  const first = (k: string): string | undefined => {
    const v = c[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const fields: string[] = [];
  const alias = spec.name;
  const hostName = first('hostname');
  if (!g.address && hostName) {
    spec.address = hostName.replace(/%h/g, alias).replace(/%%/g, '%');
    fields.push('HostName');
  }
  const port = first('port');
  if (!g.port && port) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw configError(cfg.file, `Port for ${alias}: '${port}' is not a port number`);
    spec.port = n;
    fields.push('Port');
  }
  const user = first('user');
  if (!g.user && user) {
    spec.user = user;
    fields.push('User');
  }
  const files = ([] as string[]).concat(c.identityfile ?? []).filter((f) => f.toLowerCase() !== 'none');
  if (!g.identity && files.length) {
    spec.identityFiles = [...new Set(files.map((f) => expandTokens(f, spec, alias)))];
    fields.push('IdentityFile');
  }
  if (first('identitiesonly')?.toLowerCase() === 'yes') {
    spec.identitiesOnly = true;
    fields.push('IdentitiesOnly');
  }
  const timeout = first('connecttimeout');
  if (timeout) {
    const n = Number(timeout);
    if (!Number.isFinite(n) || n <= 0)
      throw configError(cfg.file, `ConnectTimeout for ${alias}: '${timeout}' is not a number of seconds`);
    spec.connectTimeoutMs = n * 1000;
    fields.push('ConnectTimeout');
  }
  const proxyCommand = first('proxycommand');
  const proxyJump = first('proxyjump');
  if (proxyCommand && proxyCommand.toLowerCase() !== 'none' && !proxyJump) {
    // Dialling directly instead would reach another network path than the admin configured: refuse.
    spec.sshUnsupported = `${cfg.file} gives ${alias} a ProxyCommand, which orch does not run; use ProxyJump`;
  }
  if (fields.length) spec.sshConfigFields = fields;
  return proxyJump ? { proxyJump } : {};
}

interface Hop {
  host: string;
  user?: string;
  port?: number;
}

/** ProxyJump's value: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated, first hop first. */
export function parseProxyJump(value: string, target: Pick<HostSpec, 'name'>, cfg?: SshConfigFile): Hop[] {
  const where = cfg?.file ?? 'the inventory (proxy_jump)';
  return value.split(',').map((raw) => {
    const s = raw.trim().replace(/^ssh:\/\//, '');
    const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s@]+)(?::(\d+))?$/.exec(s);
    if (!m) throw configError(where, `ProxyJump for ${target.name}: cannot read hop '${raw.trim()}'`);
    const hop: Hop = { host: m[2]!.replace(/^\[|\]$/g, '') };
    if (m[1]) hop.user = m[1];
    if (m[3]) {
      const port = Number(m[3]);
      if (port < 1 || port > 65535)
        throw configError(where, `ProxyJump for ${target.name}: bad port in '${raw.trim()}'`);
      hop.port = port;
    }
    return hop;
  });
}

/**
 * A hop as a host to connect to: an inventory host of that name (its own settings, lab mark included), else a
 * host resolved through ssh_config alone, with OpenSSH's defaults (port 22, the local user).
 */
function jumpHost(
  hop: Hop,
  target: HostSpec,
  hosts: Map<string, HostSpec>,
  cfg: SshConfigFile | undefined,
): HostSpec {
  if (hop.host === target.name)
    throw configError(cfg?.file ?? 'the inventory', `ProxyJump for ${target.name} names the host itself`);
  const known = hosts.get(hop.host);
  let spec: HostSpec;
  if (known) {
    spec = { ...known, groups: [], vars: {} };
    delete spec.jumps;
  } else {
    spec = {
      name: hop.host,
      address: hop.host,
      port: 22,
      user: os.userInfo().username,
      groups: [],
      vars: {},
      source: { file: cfg?.file ?? target.source.file },
    };
    if (cfg) resolveFields(spec, { address: false, port: false, user: false, identity: false }, cfg);
  }
  if (hop.user) spec.user = hop.user;
  if (hop.port) spec.port = hop.port;
  return spec;
}

/** ssh_config's `%` tokens in IdentityFile (and `~`): %d home, %u local user, %h host, %r user, %n alias, %p port. */
export function expandTokens(
  value: string,
  spec: Pick<HostSpec, 'address' | 'user' | 'port'>,
  alias: string,
): string {
  const tokens: Record<string, string> = {
    d: os.homedir(),
    u: os.userInfo().username,
    h: spec.address,
    r: spec.user,
    n: alias,
    p: String(spec.port),
    l: os.hostname().split('.')[0] ?? '',
    i: String(process.getuid?.() ?? ''),
    '%': '%',
  };
  return tilde(value.replace(/%([a-zA-Z%])/g, (all, t: string) => tokens[t] ?? all));
}

function tilde(p: string): string {
  if (p === '~') return os.homedir();
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function configError(file: string, message: string, cause?: unknown): InputError {
  return new InputError('SSH_CONFIG_ERROR', message, { file }, cause === undefined ? undefined : { cause });
}
