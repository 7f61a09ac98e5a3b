// Topology records in the PostgreSQL store: one row per cluster, written compare-and-set on the epoch (an
// UPDATE ... WHERE epoch, or an INSERT that loses to a concurrent one on the primary key), so a record kept here
// is shared by every controller of a team and survives the loss of any one of them.
import type pg from 'pg';
import { parseTopology, type TopologyRecord } from '../pg/lifecycle/topology.js';
import { storedJson } from './common.js';

export const pgTopology = {
  async list(pool: pg.Pool): Promise<TopologyRecord[]> {
    const res = await pool.query<{ epoch: number; record: unknown }>(
      `SELECT epoch, record FROM orch.topology ORDER BY cluster`,
    );
    return res.rows.map((r) => parseTopology(r.record, r.epoch));
  },

  async put(pool: pg.Pool, rec: Omit<TopologyRecord, 'epoch'>, expectEpoch: number): Promise<boolean> {
    const epoch = expectEpoch + 1;
    const json = storedJson({ ...rec, epoch });
    const res =
      expectEpoch === 0
        ? await pool.query(
            `INSERT INTO orch.topology (cluster, epoch, record, updated_at) VALUES ($1, $2, $3::jsonb, $4)
             ON CONFLICT (cluster) DO NOTHING`,
            [rec.cluster, epoch, json, rec.updatedAt],
          )
        : await pool.query(
            `UPDATE orch.topology SET epoch = $2, record = $3::jsonb, updated_at = $4
             WHERE cluster = $1 AND epoch = $5`,
            [rec.cluster, epoch, json, rec.updatedAt, expectEpoch],
          );
    return res.rowCount === 1;
  },
};
