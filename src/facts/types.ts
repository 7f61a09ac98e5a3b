// The facts (Salt: grains) orch gathers from a host in one read-only exec.

export type OsFamily = 'Debian' | 'RedHat' | 'FreeBSD' | 'unknown';
export type InitSystem = 'systemd' | 'sysvinit' | 'rc.d' | 'unknown';
export type PkgTool = 'apt' | 'dnf' | 'yum' | 'pkg' | 'unknown';

export interface PostgresCluster {
  version: string;
  /** Debian cluster name (main); 'data' for a plain initdb layout. */
  name: string;
  dataDir: string;
  /** Directory of postgresql.conf (Debian: /etc/postgresql/<v>/<name>; elsewhere the data dir). */
  confDir: string;
  port: number;
  running: boolean;
}

export interface Facts {
  kernel: string;
  kernelRelease: string;
  osFamily: OsFamily;
  /** e.g. debian, ubuntu, rhel, rocky, freebsd */
  distro: string;
  osVersion: string;
  hostname: string;
  arch: string;
  init: InitSystem;
  pkgTool: PkgTool;
  /** The unix user PostgreSQL runs as (postgres; pgsql on old FreeBSD). */
  postgresUser: string;
  postgres: {
    /** Installed server versions, e.g. ['15']. */
    versions: string[];
    /** Directory holding the server binaries per version, e.g. { '15': '/usr/lib/postgresql/15/bin' }. */
    binDirs: Record<string, string>;
    clusters: PostgresCluster[];
    /** Directory of the unix socket. */
    socketDir: string;
  };
}
