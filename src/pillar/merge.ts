// Deep merge of pillar and inventory vars. Rules: mappings merge key by key, the later value wins for everything
// else; lists are REPLACED, never concatenated (a later file that sets `ports: [5433]` means exactly that list).
// Non-plain objects (SecretRef, Date) are leaves. Inputs are never modified; the result shares no plain
// objects or arrays with them.

/** True for `{}`-style objects (what YAML mappings parse to), false for arrays and class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A copy of plain objects and arrays all the way down; leaves are shared. */
export function deepClone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => deepClone(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, deepClone(v));
    return out as T;
  }
  return value;
}

/** Merge `layers` left to right (later wins; mappings merged recursively; lists replaced). */
export function deepMerge(...layers: Record<string, unknown>[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const layer of layers) out = mergeTwo(out, layer);
  return out;
}

function mergeTwo(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = deepClone(base);
  for (const [k, v] of Object.entries(over)) {
    const prev = Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined;
    setOwn(out, k, isPlainObject(prev) && isPlainObject(v) ? mergeTwo(prev, v) : deepClone(v));
  }
  return out;
}

// defineProperty so a YAML key named `__proto__` stays data and never reaches the prototype.
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
