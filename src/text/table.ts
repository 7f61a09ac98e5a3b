// The one table of orch's human output: a header row, then one row per item, columns two spaces apart, the last
// column not padded. Cells may hold colour (text/color.ts): widths count what is visible.
import { visibleLength } from './color.js';

/** Rows (the first is the header) as aligned text, one line each, every line ending in a newline. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) =>
    Math.max(...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
        .join('  ')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}
