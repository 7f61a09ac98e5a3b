// Linux paths and tools: Debian/Ubuntu (apt, postgresql-common layout) and RHEL-likes (dnf/yum, PGDG or
// distro layout), with systemd or sysvinit. Builds argv only; never touches a host.
import { OrchError } from '../../errors.js';
import type { Facts, PkgTool } from '../types.js';
import {
  checkPkgNames,
  checkServiceName,
  pkgQueryLines,
  type OsPaths,
  type PostgresPaths,
} from './common.js';

/** The tool that installs packages here: the probed one, else the family's usual one. */
function pkgToolFor(facts: Facts): PkgTool {
  if (facts.pkgTool !== 'unknown') return facts.pkgTool;
  if (facts.osFamily === 'Debian') return 'apt';
  if (facts.osFamily === 'RedHat') return 'dnf';
  return 'unknown';
}

/** Debian layout when the family or package tool says so; RHEL layout otherwise. */
function isDebianLike(facts: Facts): boolean {
  return facts.osFamily === 'Debian' || (facts.osFamily === 'unknown' && facts.pkgTool === 'apt');
}

/** OsPaths for a Linux host. */
export function linuxPaths(facts: Facts): OsPaths {
  const systemd = facts.init === 'systemd';
  const debian = isDebianLike(facts);
  return {
    serviceCmd(name, action) {
      checkServiceName(name);
      return systemd ? ['systemctl', action, name] : ['service', name, action];
    },
    enableCmd(name) {
      checkServiceName(name);
      if (systemd) return ['systemctl', 'enable', name];
      return debian ? ['update-rc.d', name, 'enable'] : ['chkconfig', name, 'on'];
    },
    disableCmd(name) {
      checkServiceName(name);
      if (systemd) return ['systemctl', 'disable', name];
      return debian ? ['update-rc.d', name, 'disable'] : ['chkconfig', name, 'off'];
    },
    isEnabledCmd(name) {
      checkServiceName(name);
      if (systemd) return ['systemctl', 'is-enabled', '--quiet', name];
      // sysvinit on Debian: enabled means a start link in the default runlevel 2.
      if (debian) return ['sh', '-c', 'set -- /etc/rc2.d/S??"$1"; [ -e "$1" ]', 'sh', name];
      return ['chkconfig', name];
    },
    pkgInstallCmd(names) {
      checkPkgNames(names);
      switch (pkgToolFor(facts)) {
        case 'apt':
          return ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-y', 'install', ...names];
        case 'dnf':
          return ['dnf', '-y', 'install', ...names];
        case 'yum':
          return ['yum', '-y', 'install', ...names];
        default:
          throw new OrchError('STATE_ERROR', `no known package tool on this ${facts.distro} host`);
      }
    },
    pkgQueryScript(names) {
      return pkgQueryLines(pkgToolFor(facts), names);
    },
    statOwnerCmd(path) {
      return ['stat', '-c', '%U:%G:%a', path];
    },
    postgresPaths(version, cluster) {
      return debian
        ? debianPostgres(facts, version, cluster ?? 'main')
        : redhatPostgres(facts, version, cluster ?? 'data');
    },
  };
}

function debianPostgres(facts: Facts, version: string, cluster: string): PostgresPaths {
  const found = facts.postgres.clusters.find((c) => c.version === version && c.name === cluster);
  return {
    dataDir: found?.dataDir ?? `/var/lib/postgresql/${version}/${cluster}`,
    confDir: found?.confDir ?? `/etc/postgresql/${version}/${cluster}`,
    binDir: facts.postgres.binDirs[version] ?? `/usr/lib/postgresql/${version}/bin`,
    socketDir: facts.postgres.socketDir || '/var/run/postgresql',
    // Under sysvinit one init script drives every cluster; under systemd each cluster is its own unit.
    serviceName: facts.init === 'systemd' ? `postgresql@${version}-${cluster}` : 'postgresql',
    pgUser: facts.postgresUser || 'postgres',
  };
}

function redhatPostgres(facts: Facts, version: string, cluster: string): PostgresPaths {
  const found = facts.postgres.clusters.find((c) => c.version === version && c.name === cluster);
  // The distro's own package (binaries in /usr/bin) uses unversioned paths and service name; PGDG versions them.
  const distroBuild = facts.postgres.binDirs[version] === '/usr/bin';
  const dataDir = found?.dataDir ?? (distroBuild ? '/var/lib/pgsql/data' : `/var/lib/pgsql/${version}/data`);
  return {
    dataDir,
    confDir: found?.confDir ?? dataDir,
    binDir: facts.postgres.binDirs[version] ?? `/usr/pgsql-${version}/bin`,
    socketDir: facts.postgres.socketDir || '/tmp',
    serviceName: distroBuild ? 'postgresql' : `postgresql-${version}`,
    pgUser: facts.postgresUser || 'postgres',
  };
}
