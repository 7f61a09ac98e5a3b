// The names a Salt tree's Jinja uses, for nunjucks: `pillar` (a dict: `pillar['x']`, `pillar.get('x')`), `grains`
// (`grains['os']`, `grains.get('a:b')`, `grains.filter_by({...})`), `salt` (`salt['pillar.get']('a:b')`,
// `salt['grains.get']`, `salt['grains.filter_by']`, `salt['config.get']`), `opts`, `saltenv`, `sls`, `slspath`,
// `tpldir`. Semantics are Salt's (salt.modules.pillar / grains, Jinja dict methods), not orch's:
// - `salt['pillar.get'](key, default='')` walks a colon path; a missing key gives the default, '' by default.
// - `pillar.get(key, default=None)` is Python's dict.get: no colon walking.
// - `pillar['missing']` is an error, as under Salt's StrictUndefined (its default unless allow_undefined).
// An execution function orch cannot run on the controller (`salt['cmd.run']`) is an error naming it.
import { OrchError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import { SecretRef } from '../secrets/ref.js';
import { unwrapStrict } from '../render/context.js';

/** Execution functions a Salt tree's templates may call here. */
export const SALT_FUNCTIONS = [
  'pillar.get',
  'pillar.items',
  'pillar.item',
  'grains.get',
  'grains.item',
  'grains.items',
  'grains.filter_by',
  'config.get',
] as const;

/**
 * A function taking Jinja keyword arguments: nunjucks passes `f(a, default='x')` as a last argument object marked
 * `__keywords`; they are put in place by parameter name.
 */
export function withKeywords(
  params: string[],
  fn: (...a: unknown[]) => unknown,
): (...a: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const last = args[args.length - 1];
    if (last !== null && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords === true) {
      args.pop();
      for (const [k, v] of Object.entries(last)) {
        if (k === '__keywords') continue;
        const i = params.indexOf(k);
        if (i < 0)
          throw new OrchError('BAD_INPUT', `unexpected keyword argument '${k}' (takes ${params.join(', ')})`);
        while (args.length < i) args.push(undefined);
        args[i] = v;
      }
    }
    return fn(...args);
  };
}

const PROBES = new Set(['toJSON', 'then', 'inspect', 'constructor', '__keywords', 'nodeType', '$$typeof']);

/** Salt grain names computed from orch's facts (the common ones; docs/SALT.md lists them). */
export function grainsFromFacts(host: string, facts: Facts | undefined): Record<string, unknown> {
  if (!facts) return { id: host };
  const osName: Record<string, string> = {
    debian: 'Debian',
    ubuntu: 'Ubuntu',
    rhel: 'RedHat',
    centos: 'CentOS',
    rocky: 'Rocky',
    almalinux: 'AlmaLinux',
    fedora: 'Fedora',
    freebsd: 'FreeBSD',
  };
  const major = Number.parseInt(facts.osVersion, 10);
  return {
    id: host,
    os: osName[facts.distro] ?? facts.distro,
    os_family: facts.osFamily === 'unknown' ? '' : facts.osFamily,
    osrelease: facts.osVersion,
    osmajorrelease: Number.isFinite(major) ? major : facts.osVersion,
    osrelease_info: facts.osVersion.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
    kernel: facts.kernel,
    kernelrelease: facts.kernelRelease,
    host: facts.hostname.split('.')[0],
    nodename: facts.hostname,
    fqdn: facts.hostname,
    cpuarch: facts.arch,
    init: facts.init,
  };
}

/** Walk a colon-separated path through dicts and lists (Salt's traverse_dict_and_list); undefined when missing. */
export function traverse(data: unknown, key: string, delimiter = ':'): unknown {
  let node: unknown = unwrapStrict(data);
  for (const seg of String(key).split(delimiter)) {
    if (Array.isArray(node) && /^\d+$/.test(seg) && Number(seg) < node.length) node = node[Number(seg)];
    else if (isDict(node) && Object.prototype.hasOwnProperty.call(node, seg)) node = node[seg];
    else return undefined;
  }
  return node;
}

function isDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Salt's dictupdate.update: nested dicts merged, everything else replaced (a copy; inputs are left alone). */
export function saltMerge(base: unknown, over: unknown): unknown {
  if (!isDict(base) || !isDict(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? saltMerge(out[k], v) : v;
  return out;
}

/**
 * salt.modules.grains.filter_by: the entry of `lookup` for the grain's value (or `default`), merged onto `base`'s
 * entry when given, then `merge` merged over it; null when nothing matches.
 */
export function filterBy(
  grains: Record<string, unknown>,
  lookup: unknown,
  grain: unknown = 'os_family',
  merge: unknown = null,
  dflt: unknown = 'default',
  base: unknown = null,
): unknown {
  const table = unwrapStrict(lookup);
  if (!isDict(table)) throw new OrchError('BAD_INPUT', 'grains.filter_by needs a dict as its lookup table');
  const value = traverse(grains, String(grain));
  const keys = Array.isArray(value) ? value.map(String) : [String(value)];
  let ret: unknown = undefined;
  for (const k of keys) if (k in table) ret ??= table[k];
  if (ret === undefined && typeof dflt === 'string' && dflt in table) ret = table[dflt];
  if (typeof base === 'string' && base in table) ret = saltMerge(table[base], ret ?? {});
  if (merge !== null && merge !== undefined) ret = saltMerge(ret ?? {}, unwrapStrict(merge));
  return ret ?? null;
}

/** A dict as Salt's Jinja sees it: `d['k']` (strict), `d.k`, `d.get(k, default)`, `d.keys()`, `d.items()`. */
export function saltDict(data: unknown, label: string, host: string, at: string[] = []): unknown {
  const raw = unwrapStrict(data);
  if (raw instanceof SecretRef) {
    throw new OrchError(
      'SECRET_ERROR',
      `${label} key '${at.join(':')}' is an encrypted secret that was not decrypted for host ${host}`,
    );
  }
  if (Array.isArray(raw)) return raw.map((v, i) => saltDict(v, label, host, [...at, String(i)]));
  if (!isDict(raw)) return raw;
  const methods: Record<string, unknown> = {
    get: withKeywords(['key', 'default'], (k, d = null) =>
      Object.prototype.hasOwnProperty.call(raw, k as string)
        ? saltDict(raw[k as string], label, host, [...at, k as string])
        : d,
    ),
    keys: () => Object.keys(raw),
    values: () => Object.entries(raw).map(([k, v]) => saltDict(v, label, host, [...at, k])),
    items: () => Object.entries(raw).map(([k, v]) => [k, saltDict(v, label, host, [...at, k])]),
  };
  const target: Record<string, unknown> = { ...raw };
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'symbol') return Reflect.get(t, key);
      // Jinja's `d.get` is the method (attribute lookup comes first); `d['get']` the same in nunjucks.
      if (key in methods) return methods[key];
      if (Object.prototype.hasOwnProperty.call(t, key)) return saltDict(t[key], label, host, [...at, key]);
      if (PROBES.has(key) || key === 'length') return undefined;
      throw new OrchError(
        'PILLAR_MISSING_KEY',
        `${label} key '${[...at, key].join(':')}' is not defined for host ${host}`,
      );
    },
  });
}

export interface SaltContextInputs {
  host: string;
  pillar: Record<string, unknown>;
  facts?: Facts;
  saltenv: string;
  /** The sls being rendered (`postgres.server`), when a state file. */
  sls?: string;
  /** The sls is a directory's init.sls. */
  init?: boolean;
  test?: boolean;
}

/** The extra top-level names a Salt file's template sees (added over orch's own context). */
export function saltContext(inputs: SaltContextInputs): Record<string, unknown> {
  const { host } = inputs;
  const pillarData = unwrapStrict(inputs.pillar);
  const grains = grainsFromFacts(host, inputs.facts);
  const opts = {
    id: host,
    saltenv: inputs.saltenv,
    test: inputs.test === true,
    renderer: 'jinja|yaml',
    file_client: 'local',
  };
  const lookup = (data: unknown, label: string) =>
    withKeywords(['key', 'default', 'merge', 'delimiter'], (key, dflt = '', merge, delim = ':') => {
      const v = traverse(data, String(key), typeof delim === 'string' ? delim : ':');
      if (v === undefined) return dflt;
      // merge=True: the value merged over the default (both dicts), as salt.modules.pillar.get does.
      const value = merge === true ? saltMerge(unwrapStrict(dflt), v) : v;
      return saltDict(value, label, host, String(key).split(':'));
    });
  const functions: Record<string, unknown> = {
    'pillar.get': lookup(pillarData, 'pillar'),
    'pillar.item': (key: string) => ({ [key]: saltDict(traverse(pillarData, key) ?? '', 'pillar', host) }),
    'pillar.items': () => saltDict(pillarData, 'pillar', host),
    'grains.get': lookup(grains, 'grains'),
    'grains.item': (key: string) => ({ [key]: traverse(grains, key) ?? '' }),
    'grains.items': () => saltDict(grains, 'grains', host),
    'grains.filter_by': withKeywords(['lookup_dict', 'grain', 'merge', 'default', 'base'], (...a) =>
      filterBy(grains, ...(a as [unknown])),
    ),
    // config.get looks in opts, then grains, then pillar (salt.modules.config.get, minus master config).
    'config.get': withKeywords(['key', 'default'], (key, dflt = '') => {
      for (const src of [opts, grains, pillarData]) {
        const v = traverse(src, String(key));
        if (v !== undefined) return saltDict(v, 'config', host);
      }
      return dflt;
    }),
  };
  const salt = new Proxy(functions, {
    get(t, key) {
      if (typeof key === 'symbol') return Reflect.get(t, key);
      if (Object.prototype.hasOwnProperty.call(t, key)) return t[key];
      if (PROBES.has(key)) return undefined;
      throw new OrchError(
        'SALT_UNSUPPORTED',
        `salt['${key}'] is not available: templates render on the controller, where orch offers ${SALT_FUNCTIONS.join(', ')}`,
      );
    },
  });
  const grainsDict = saltDict(grains, 'grains', host) as Record<string, unknown>;
  // `grains.filter_by(...)` is the module function reached through the dict (a Salt idiom of map.jinja).
  const grainsView = new Proxy(grainsDict, {
    get(t, key, r) {
      if (key === 'filter_by') return functions['grains.filter_by'];
      return Reflect.get(t, key, r) as unknown;
    },
  });
  const sls = inputs.sls;
  // Salt's slspath: the sls's directory (postgres.server -> postgres; postgres/init.sls -> postgres).
  const slspath = sls ? (inputs.init ? sls : sls.split('.').slice(0, -1).join('.')).split('.').join('/') : '';
  return {
    pillar: saltDict(pillarData, 'pillar', host),
    grains: grainsView,
    salt,
    opts,
    saltenv: inputs.saltenv,
    ...(sls ? { sls, slspath, tpldir: slspath } : {}),
  };
}
