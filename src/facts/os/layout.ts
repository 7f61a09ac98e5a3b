// The PostgreSQL layout of a host as the formula's pillar sees it (`os_postgres(version)` in pillar templates):
// the OS layer's answer in the pillar's snake_case words, so pillar/postgres.yaml holds no per-OS branch.
// Builds data only.
import { shJoin } from '../../shell/quote.js';
import type { Facts } from '../types.js';
import { osPaths } from './index.js';

export interface PostgresLayout {
  cluster: string;
  package: string;
  service: string;
  home: string;
  conf_dir: string;
  data_dir: string;
  bin_dir: string;
  /** The replication settings file, in conf.d beside postgresql.conf. */
  include_file: string;
  /** true where postgresql.conf lives in the data directory (FreeBSD, RHEL): it has no conf.d by default. */
  conf_in_data_dir: boolean;
  /** Shell command creating the first cluster; '' where the package makes one (Debian). */
  initdb: string;
  os_user: string;
  os_group: string;
}

/** The layout for a major version (and cluster, else the OS's default) on the host these facts describe. */
export function postgresLayout(facts: Facts, version: string, cluster?: string): PostgresLayout {
  const p = osPaths(facts).postgresPaths(version, cluster);
  return {
    cluster: p.cluster,
    package: p.serverPackage,
    service: p.serviceName,
    home: p.home,
    conf_dir: p.confDir,
    data_dir: p.dataDir,
    bin_dir: p.binDir,
    include_file: `${p.confDir}/conf.d/orch-replication.conf`,
    conf_in_data_dir: p.confDir === p.dataDir,
    initdb: p.initdb ? shJoin(p.initdb) : '',
    os_user: p.pgUser,
    os_group: p.pgUser,
  };
}
