// Reading a check's key/value output through a schema (src/shell/kv.ts), and the outcome when it does not read.
import type { CheckOutcome } from './types.js';

export { kvBit, kvDigits, kvFlag, kvStat, kvText, readKv, type KvRead } from '../shell/kv.js';

/** The check outcome for a probe whose output did not read (see readKv). */
export function probeError(what: string, error: string): CheckOutcome {
  return { status: 'error', comment: `could not read the check of ${what}: ${error}` };
}
