// The OS layer: every per-OS command and path (services, su, packages, PostgreSQL's layout), decided once on the
// controller from the host's facts. Builds argv and shell text only; it runs nothing and reads no host.
import type { Facts } from '../types.js';
import type { OsPaths } from './common.js';
export { postgresLayout, type PostgresLayout } from './layout.js';
import { freebsdPaths } from './freebsd.js';
import { linuxPaths } from './linux.js';

export {
  checkPkgNames,
  checkServiceName,
  OS_ACCOUNT_ID,
  OS_ACCOUNT_NAME,
  parsePkgQuery,
  type OsPaths,
  type PostgresPaths,
  type ServiceAction,
} from './common.js';

/** The paths and tools of the host described by these facts; the one place that tells FreeBSD from Linux. */
export function osPaths(facts: Facts): OsPaths {
  if (facts.osFamily === 'FreeBSD' || facts.kernel === 'FreeBSD') return freebsdPaths(facts);
  return linuxPaths(facts);
}
