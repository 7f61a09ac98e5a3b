// FreeBSD paths and tools: rc.d services (service, sysrc), su -m, pkg, the ports' PostgreSQL layout.
// Builds argv and shell text only; never touches a host.
//
// Service control always uses rc.subr(8)'s `one` prefix (onestart, onestop, onestatus, ...): without it a service
// whose `<name>_enable` is not YES is refused with "Cannot 'start' postgresql. Set postgresql_enable to YES" and
// the rc script still exits 0, so a fresh replica (enabled only by a later state) would never start or stop.
// `one<cmd>` runs the command "regardless of the rc.conf(5) variable" and acts the same on an enabled service.
import type { Facts } from '../types.js';
import { shJoin, shQuote } from '../../shell/quote.js';
import { checkServiceName, pkgQueryLines, type OsPaths } from './common.js';

/** OsPaths for a FreeBSD host. */
export function freebsdPaths(facts: Facts): OsPaths {
  const self: OsPaths = {
    freebsd: true,
    serviceCmd(name, action) {
      checkServiceName(name);
      return ['service', name, `one${action}`];
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
      // FreeBSD's `su -m` runs the CALLER's login shell (root's: csh up to 13), never $SHELL and never the target's,
      // so the command goes through orch_run_as (shell/actor.ts), which hands it to /bin/sh untouched.
      return `orch_run_as ${shQuote(user)} /bin/sh -c ${shQuote(command)}`;
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
      // databases/postgresql<v>-server: rc script `postgresql` (postgresql_enable, postgresql_data defaulting to
      // ~postgres/data<v>, the `initdb` extra command), user postgres with home /var/db/postgres.
      return {
        cluster,
        serverPackage: `postgresql${version.replace('.', '')}-server`,
        home: '/var/db/postgres',
        initdb: ['service', 'postgresql', 'oneinitdb'],
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
