// Topology records in the embedded store: one row per cluster, written compare-and-set on the epoch inside
// BEGIN IMMEDIATE, so two verbs racing on one cluster cannot both win.
import type Database from 'better-sqlite3';
import { parseTopology, type TopologyRecord } from '../pg/lifecycle/topology.js';
import { storedJson } from './common.js';

interface Row {
  cluster: string;
  epoch: number;
  record: string;
}

export const sqliteTopology = {
  list(db: Database.Database): TopologyRecord[] {
    const rows = db.prepare(`SELECT cluster, epoch, record FROM topology ORDER BY cluster`).all() as Row[];
    return rows.map((r) => parseTopology(r.record, r.epoch));
  },

  put(db: Database.Database, rec: Omit<TopologyRecord, 'epoch'>, expectEpoch: number): boolean {
    return db
      .transaction(() => {
        const row = db.prepare(`SELECT epoch FROM topology WHERE cluster = ?`).get(rec.cluster) as
          { epoch: number } | undefined;
        if ((row?.epoch ?? 0) !== expectEpoch) return false;
        const epoch = expectEpoch + 1;
        db.prepare(
          `INSERT INTO topology (cluster, epoch, record, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (cluster) DO UPDATE SET epoch = excluded.epoch, record = excluded.record,
             updated_at = excluded.updated_at`,
        ).run(rec.cluster, epoch, storedJson({ ...rec, epoch }), rec.updatedAt);
        return true;
      })
      .immediate();
  },
};
