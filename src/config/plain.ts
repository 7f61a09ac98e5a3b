// Small exact predicates the cheap document checks share (orch.yaml, inventory files). Each accepts only what the
// matching zod schema accepts, so a document they pass needs no schema run.

/** A `{}`-style object (what a YAML mapping parses to), not an array or class instance. */
export function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Every own key of `v` is one of `known`. */
export function onlyKeys(v: Record<string, unknown>, known: ReadonlySet<string>): boolean {
  for (const k of Object.keys(v)) if (!known.has(k)) return false;
  return true;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
export const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Absent, or passing `check` (zod's .optional() takes undefined, never null). */
export function optional(v: unknown, check: (x: unknown) => boolean): boolean {
  return v === undefined || check(v);
}
