// FreeBSD paths and tools: rc.d services (service, sysrc), su -m, pkg, the ports' PostgreSQL layout.
// Builds argv and shell text only; never touches a host.
import type { Facts } from '../types.js';
import { shJoin, shQuote } from '../../shell/quote.js';
import { checkServiceName, pkgQueryLines, type OsPaths } from './common.js';

/** OsPaths for a FreeBSD host. */
export function freebsdPaths(facts: Facts): OsPaths {
  const self: OsPaths = {
    freebsd: true,
    serviceCmd(name, action) {
      checkServiceName(name);
      return ['service', name, action];
    },
    serviceActionCmd(name, action) {
      checkServiceName(name);
      return ['service', name, `one${action}`];
    },
    serviceExists(name) {
      const n = shQuote(name);
      return `[ -x /etc/rc.d/${n} ] || [ -x /usr/local/etc/rc.d/${n} ]`;
    },
    serviceActive(name) {
      return `${shJoin(self.serviceActionCmd(name, 'status'))} >/dev/null 2>&1`;
    },
    suCommand(user, command) {
      // FreeBSD's su has no -s; -m keeps the environment (and the exported env values) like Linux su without -l.
      return `su -m ${shQuote(user)} -c ${shQuote(command)}`;
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
    pkgQueryScript(names) {
      return pkgQueryLines('pkg', names);
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
  return self;
}
