// Parsers for option values: a value that is not what the option takes is refused (exit 4) with a message naming
// the option and the value, never read as NaN or silently replaced by a default.
import { InvalidArgumentError } from 'commander';

/** A whole number >= 1 (`-j 10`). */
export function positiveInt(v: string): number {
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError(`expected a whole number of at least 1, got '${v}'`);
  return Number(v);
}

/** A number of seconds > 0 (`--timeout 2.5`). */
export function positiveSeconds(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number of seconds, got '${v}'`);
  return n;
}

/** A whole number >= 0 (`--retries 0`). */
export function nonNegativeInt(v: string): number {
  if (!/^\s*\d+\s*$/.test(v))
    throw new InvalidArgumentError(`expected a whole number of at least 0, got '${v}'`);
  return Number(v);
}

/** `--batch 2` or `--batch 25%` (1..100 percent of the targeted hosts, at least one host). */
export function batchSizeValue(v: string): { hosts: number } | { percent: number } {
  const m = /^\s*(\d+)\s*(%?)\s*$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || (m[2] === '%' && n > 100))
    throw new InvalidArgumentError(
      `expected a number of hosts (2) or a percentage of them (25%), got '${v}'`,
    );
  return m[2] === '%' ? { percent: n } : { hosts: n };
}

/** A percentage from 0 to 100 (`--fail-percent 10`). */
export function percentValue(v: string): number {
  const n = /^\s*\d+(\.\d+)?\s*%?\s*$/.test(v) ? Number(v.replace('%', '')) : NaN;
  if (!(n >= 0 && n <= 100))
    throw new InvalidArgumentError(`expected a percentage from 0 to 100, got '${v}'`);
  return n;
}

/** `--diff 20` (lines shown before folding) or `--diff full` (never fold). */
export function diffLinesValue(v: string): number {
  if (v.trim() === 'full') return Infinity;
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError(`expected a number of lines (20) or 'full', got '${v}'`);
  return Number(v);
}
