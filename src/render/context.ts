// The data a template sees, made strict: pillar, facts and vars are wrapped in Proxies so reading a key that is
// not there throws OrchError('PILLAR_MISSING_KEY') naming the full dotted path and the host, instead of
// rendering an empty string into a config file. Reading an undecrypted secret throws too. Since `is defined`
// cannot work on a strict value, templates test optional keys with pillar_get('a:b:c', default) (Salt style,
// colon-separated) and facts_get(...). The wrapped data itself is never modified.
import { OrchError } from '../errors.js';
import { redactor } from '../secrets/redactor.js';
import { SecretRef } from '../secrets/ref.js';

const targets = new WeakMap<object, object>();

// How many decrypted secrets templates have read so far in this process. A state compares it around its own
// render: what it wrote may hold a secret in a form no redactor knows (a filter of the template's own).
let secretReads = 0;

/** The number of secret reads through strict contexts so far (compare two readings around a render). */
export function secretReadCount(): number {
  return secretReads;
}

// Keys that runtimes and libraries probe on any object (JSON.stringify, await, nunjucks keyword args, inspectors).
// Answering `undefined` for them is what a plain object does; throwing would break those callers.
const PROBES = new Set([
  'toJSON',
  'then',
  'inspect',
  'constructor',
  '__keywords',
  'nodeType',
  '$$typeof',
  'asymmetricMatch',
]);

/** Wrap `obj` so a missing key throws "<label> key 'a.b.c' is not defined for host <host>". */
export function strictContext<T extends object>(
  obj: T,
  label: string,
  host: string,
  basePath: string[] = [],
): T {
  const raw = unwrapStrict(obj);
  const proxy = new Proxy(raw, {
    get(target, key, receiver) {
      if (typeof key === 'symbol') return Reflect.get(target, key, receiver);
      if (!(key in target)) {
        if (PROBES.has(key)) return undefined;
        throw missingKey(label, [...basePath, key], host);
      }
      const value: unknown = Reflect.get(target, key, receiver);
      if (!Object.prototype.hasOwnProperty.call(target, key)) return value;
      const desc = Object.getOwnPropertyDescriptor(target, key);
      // Proxy invariant: a frozen property must be returned as is.
      if (desc && !desc.configurable && !desc.writable) return value;
      return wrapValue(value, label, host, [...basePath, key]);
    },
  });
  targets.set(proxy, raw);
  return proxy as T;
}

/** The plain data behind a strict proxy (or the value itself); for filters that serialize whole objects. */
export function unwrapStrict<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    const raw = targets.get(value as object);
    if (raw) return raw as T;
  }
  return value;
}

/** Look up a colon-separated path (`a:b:c`); the default when missing; with no default, a missing key throws. */
export function getterFor(
  data: object,
  label: string,
  host: string,
): (path: string, ...fallback: unknown[]) => unknown {
  const root = unwrapStrict(data);
  return (keyPath: string, ...fallback: unknown[]) => {
    if (typeof keyPath !== 'string' || keyPath.length === 0) {
      throw new OrchError('BAD_INPUT', `${label}_get needs a key path like 'a:b:c'`);
    }
    const segments = keyPath.split(':');
    let node: unknown = root;
    for (const seg of segments) {
      if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, seg)) {
        node = (node as Record<string, unknown>)[seg];
      } else {
        if (fallback.length > 0) return fallback[0];
        throw missingKey(label, segments, host);
      }
    }
    return wrapValue(node, label, host, segments);
  };
}

export interface RenderInputs {
  /** The host name, visible to templates as `host`. */
  host: string;
  pillar?: Record<string, unknown>;
  facts?: object;
  vars?: Record<string, unknown>;
  /** Further top-level names (not made strict). */
  extra?: Record<string, unknown>;
}

/** The context object for one host's templates: strict pillar/facts/vars plus pillar_get/facts_get bound to it. */
export function buildRenderContext(inputs: RenderInputs): Record<string, unknown> {
  const { host } = inputs;
  const pillar = inputs.pillar ?? {};
  const facts = inputs.facts ?? {};
  const vars = inputs.vars ?? {};
  return {
    ...inputs.extra,
    host,
    pillar: strictContext(pillar, 'pillar', host),
    facts: strictContext(facts, 'facts', host),
    vars: strictContext(vars, 'vars', host),
    pillar_get: getterFor(pillar, 'pillar', host),
    facts_get: getterFor(facts, 'facts', host),
  };
}

function wrapValue(value: unknown, label: string, host: string, path: string[]): unknown {
  if (value instanceof SecretRef) {
    throw new OrchError(
      'SECRET_ERROR',
      `${label} key '${path.join('.')}' is an encrypted secret that was not decrypted for host ${host}`,
    );
  }
  if (typeof value === 'string' && redactor.size > 0 && redactor.contains(value)) secretReads++;
  if (value !== null && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value) || proto === Object.prototype || proto === null) {
      return strictContext(value, label, host, path);
    }
  }
  return value;
}

function missingKey(label: string, path: string[], host: string): OrchError {
  return new OrchError(
    'PILLAR_MISSING_KEY',
    `${label} key '${path.join('.')}' is not defined for host ${host}`,
  );
}
