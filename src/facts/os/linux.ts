// Linux paths and tools: Debian/Ubuntu (apt, postgresql-common layout) and RHEL-likes (dnf/yum, PGDG or
// distro layout), with systemd or sysvinit. Builds argv and shell text only; never touches a host.
import { shJoin, shQuote } from '../../shell/quote.js';
import type { Facts, PkgTool } from '../types.js';
import { checkServiceName, pkgQueryLines, type OsPaths, type PostgresPaths } from './common.js';

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
  const self: OsPaths = {
    freebsd: false,
    serviceCmd(name, action) {
      checkServiceName(name);
      return systemd ? ['systemctl', action, name] : ['service', name, action];
    },
    serviceActionCmd(name, action) {
      return self.serviceCmd(name, action);
    },
    serviceExists(name) {
      const n = shQuote(name);
      if (!systemd) return `[ -x /etc/init.d/${n} ]`;
      return `case "$(systemctl show -p LoadState ${n} 2>/dev/null)" in LoadState=loaded | LoadState=masked) return 0 ;; *) return 1 ;; esac`;
    },
    serviceActive(name) {
      const n = shQuote(name);
      if (!systemd) return `${shJoin(self.serviceCmd(name, 'status'))} >/dev/null 2>&1`;
      // A unit that other units are PartOf (Debian's oneshot `postgresql` over its `postgresql@<v>-<cluster>` units)
      // stays active whatever its parts do: it counts as running only when each of its parts runs too.
      return `systemctl is-active --quiet ${n} || return 1
  for _part in $(systemctl show -p ConsistsOf --value ${n} 2>/dev/null); do systemctl is-active --quiet "$_part" || return 1; done`;
    },
    suCommand(user, command) {
      return `su -s /bin/sh ${shQuote(user)} -c ${shQuote(command)}`;
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
    pkgQueryScript(names) {
      return pkgQueryLines(pkgToolFor(facts), names);
    },
    postgresPaths(version, cluster) {
      return debian
        ? debianPostgres(facts, version, cluster ?? 'main')
        : redhatPostgres(facts, version, cluster ?? 'data');
    },
  };
  return self;
}

function debianPostgres(facts: Facts, version: string, cluster: string): PostgresPaths {
  const found = facts.postgres.clusters.find((c) => c.version === version && c.name === cluster);
  return {
    cluster,
    serverPackage: `postgresql-${version}`,
    home: '/var/lib/postgresql',
    initdb: null,
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
  const binDir = facts.postgres.binDirs[version] ?? `/usr/pgsql-${version}/bin`;
  // PGDG RPMs (postgresql<v>-server): the cluster is made by /usr/pgsql-<v>/bin/postgresql-<v>-setup initdb, into
  // /var/lib/pgsql/<v>/data with its config inside; the distro's postgresql-server by postgresql-setup --initdb.
  return {
    cluster,
    serverPackage: distroBuild ? 'postgresql-server' : `postgresql${version}-server`,
    home: '/var/lib/pgsql',
    initdb: distroBuild
      ? ['postgresql-setup', '--initdb']
      : [`${binDir}/postgresql-${version}-setup`, 'initdb'],
    dataDir,
    confDir: found?.confDir ?? dataDir,
    binDir,
    socketDir: facts.postgres.socketDir || '/tmp',
    serviceName: distroBuild ? 'postgresql' : `postgresql-${version}`,
    pgUser: facts.postgresUser || 'postgres',
  };
}
