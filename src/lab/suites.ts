// The Debian releases a booted lab host can run, each with the PostgreSQL its archive ships. Pure.
import { OrchError } from '../errors.js';

export interface Suite {
  /** Debian codename, as debootstrap and apt name it. */
  name: string;
  /** Debian release number. */
  debian: number;
  /** The PostgreSQL major version of the release's `postgresql` package. */
  postgresql: number;
}

export const SUITES: readonly Suite[] = [
  { name: 'bullseye', debian: 11, postgresql: 13 },
  { name: 'bookworm', debian: 12, postgresql: 15 },
  { name: 'trixie', debian: 13, postgresql: 17 },
];

/** The suite named `name` (a codename: numbers would read as PostgreSQL versions); BAD_INPUT for others. */
export function parseSuite(name: string): Suite {
  const n = name.trim().toLowerCase();
  const s = SUITES.find((x) => x.name === n);
  if (!s) {
    throw new OrchError(
      'BAD_INPUT',
      `unknown OS '${name}' for a booted lab host: use one of ${SUITES.map((x) => x.name).join(', ')}`,
    );
  }
  return s;
}
