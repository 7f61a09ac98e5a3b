// Per OS family: the argv of service, enable, package and stat commands, and PostgreSQL's paths, derived from
// Facts. Builds commands only (argv arrays, quoted later with shJoin); it runs nothing and reads no host.
import type { Facts } from '../types.js';
import type { OsPaths } from './common.js';
import { freebsdPaths } from './freebsd.js';
import { linuxPaths } from './linux.js';

export {
  OS_ACCOUNT_ID,
  OS_ACCOUNT_NAME,
  parsePkgQuery,
  type OsPaths,
  type PostgresPaths,
  type ServiceAction,
} from './common.js';

/** The paths and tools of the host described by these facts. */
export function osPaths(facts: Facts): OsPaths {
  if (facts.osFamily === 'FreeBSD' || facts.kernel === 'FreeBSD') return freebsdPaths(facts);
  return linuxPaths(facts);
}
