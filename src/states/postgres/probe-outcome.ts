// How a postgres.* check reads a probe that did not reach a running server (src/pg/connector.ts readProbe).
import type { PgProbe } from '../../pg/connector.js';
import type { CheckOutcome } from '../types.js';

/**
 * The outcome when the probe did not reach a running server: 'unknown' for not installed / not running (never
 * "no change"), 'error' for anything else. Returns null when the server answered.
 */
export function probeOutcome(p: PgProbe, what: string): CheckOutcome | null {
  if (p.kind === 'missing') {
    return {
      status: 'unknown',
      comment: `PostgreSQL is not installed (no psql); ${what} cannot be checked before it is`,
    };
  }
  if (p.kind === 'down')
    return {
      status: 'unknown',
      comment: `PostgreSQL is not running; ${what} cannot be checked before it is started`,
    };
  if (p.kind === 'error')
    return { status: 'error', comment: `could not query PostgreSQL for ${what}: ${p.detail}` };
  return null;
}
