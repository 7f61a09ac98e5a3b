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
