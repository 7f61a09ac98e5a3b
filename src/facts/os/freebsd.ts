// FreeBSD paths and tools: rc.d services (service, sysrc), pkg, BSD stat, the ports' PostgreSQL layout.
// Builds argv only; never touches a host.
import type { Facts } from '../types.js';
import { checkPkgNames, checkServiceName, pkgQueryLines, type OsPaths } from './common.js';

/** OsPaths for a FreeBSD host. */
export function freebsdPaths(facts: Facts): OsPaths {
  return {
    serviceCmd(name, action) {
      checkServiceName(name);
      return ['service', name, action];
    },
    enableCmd(name) {
      checkServiceName(name);
      // rc.conf variables cannot hold '-' or '.'; rc scripts name theirs with '_' instead.
      return ['sysrc', `${name.replace(/[^A-Za-z0-9_]/g, '_')}_enable=YES`];
    },
    disableCmd(name) {
      checkServiceName(name);
      return ['sysrc', `${name.replace(/[^A-Za-z0-9_]/g, '_')}_enable=NO`];
    },
    isEnabledCmd(name) {
      checkServiceName(name);
      return ['service', name, 'enabled'];
    },
    pkgInstallCmd(names) {
      checkPkgNames(names);
      return ['pkg', 'install', '-y', ...names];
    },
    pkgQueryScript(names) {
      return pkgQueryLines('pkg', names);
    },
    statOwnerCmd(path) {
      return ['stat', '-f', '%Su:%Sg:%Lp', path];
    },
    postgresPaths(version, cluster = 'data') {
      const found = facts.postgres.clusters.find((c) => c.version === version && c.name === cluster);
      const dataDir = found?.dataDir ?? `/var/db/postgres/data${version.replace('.', '')}`;
      return {
        dataDir,
        confDir: found?.confDir ?? dataDir,
        binDir: facts.postgres.binDirs[version] ?? '/usr/local/bin',
        socketDir: facts.postgres.socketDir || '/tmp',
        serviceName: 'postgresql',
        pgUser: facts.postgresUser || 'postgres',
      };
    },
  };
}
