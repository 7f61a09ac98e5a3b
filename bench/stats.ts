// Pure number helpers of the bench: median, rounding, ratios. No I/O.

/** The median of a non-empty list (mean of the two middle values for an even count); NaN for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Round to `digits` decimals (for reports; the JSON keeps more). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The distinct values of per-host counts, as a short text: "1" when every host agrees, "1–2" otherwise. */
export function spread(values: readonly number[]): string {
  if (values.length === 0) return '–';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** How many times faster `fast` is than `slow` (slow / fast), or NaN when either is missing. */
export function speedup(slow: number, fast: number): number {
  if (!(slow > 0) || !(fast > 0)) return NaN;
  return slow / fast;
}
