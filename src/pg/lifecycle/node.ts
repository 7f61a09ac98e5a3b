// One PostgreSQL node of a cluster as the lifecycle verbs drive it: its connection, its paths and service commands
// (from its facts and postgres pillar, as the formula's states compute them) and what the verbs connect with.
import { OrchError } from '../../errors.js';
import type { Facts } from '../../facts/types.js';
import { osPaths } from '../../facts/os/index.js';
import type { Connection } from '../../transport/types.js';

export interface PgNode {
  host: string;
  conn: Connection;
  /** Major version (15, 12, 11, ...). */
  major: number;
  port: number;
  dataDir: string;
  binDir: string;
  socketDir: string;
  pgUser: string;
  /** argv that starts / restarts the server the way the formula's service state does. */
  start: string[];
  restart: string[];
}

type Pillar = Record<string, unknown>;

/** The node of host from its facts and its (topology-adjusted) postgres pillar. */
export function pgNode(conn: Connection, facts: Facts, pg: Pillar): PgNode {
  const host = conn.host.name;
  const version = typeof pg.version === 'string' || typeof pg.version === 'number' ? String(pg.version) : '';
  const m = /^(\d+)(\.\d+)?$/.exec(version);
  if (!m)
    throw new OrchError('BAD_INPUT', `${host}: postgres.version is not a PostgreSQL version: '${version}'`);
  const major = Number(m[1]);
  if (major < 10)
    throw new OrchError(
      'BAD_INPUT',
      `${host}: the lifecycle verbs support PostgreSQL 10 and later, not ${version}`,
    );
  const cluster = typeof pg.cluster === 'string' ? pg.cluster : undefined;
  // Both become paths and operands on the node: a name, never a path step or an option.
  if (cluster !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(cluster))
    throw new OrchError(
      'BAD_INPUT',
      `${host}: postgres.cluster is not a cluster name: ${JSON.stringify(cluster)}`,
    );
  if (
    pg.port !== undefined &&
    !(Number.isInteger(pg.port) && Number(pg.port) >= 1 && Number(pg.port) <= 65535)
  )
    throw new OrchError(
      'BAD_INPUT',
      `${host}: postgres.port is not a port (1-65535): ${JSON.stringify(pg.port)}`,
    );
  const os = osPaths(facts);
  const paths = os.postgresPaths(version, cluster);
  const port = typeof pg.port === 'number' ? pg.port : 5432;
  const service =
    pg.paths && typeof pg.paths === 'object' && typeof (pg.paths as Pillar).service === 'string'
      ? String((pg.paths as Pillar).service)
      : paths.serviceName;
  return {
    host,
    conn,
    major,
    port,
    dataDir: paths.dataDir,
    binDir: paths.binDir,
    socketDir: paths.socketDir,
    pgUser: paths.pgUser,
    start: os.serviceCmd(service, 'start'),
    restart: os.serviceCmd(service, 'restart'),
  };
}
