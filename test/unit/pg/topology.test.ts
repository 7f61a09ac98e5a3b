// The recorded topology: the cluster key, the slots of every non-primary node, the pillar overlay the formula
// reads, the drift findings it leads to (a second primary, a standby of another upstream), and the
// compare-and-set write (in test/unit/jobs/store-suite.ts, for both stores).
import assert from 'node:assert/strict';
import { pgLimits, statusFindings } from '../../../src/drift/pg-findings.js';
import {
  clusterKey,
  overlayTopology,
  slotsFor,
  type TopologyRecord,
} from '../../../src/pg/lifecycle/topology.js';

const pillar = () => ({
  postgres: {
    primary: 'p.example.com',
    port: 5432,
    cluster: 'main',
    nodes: { 'p.example.com': '10.0.0.1', 'a.example.com': '10.0.0.2', 'b.example.com': '10.0.0.3' },
    slots: { 'a.example.com': 'slot_a', 'b.example.com': 'slot_b' },
  },
});

const record = (over: Partial<TopologyRecord> = {}): TopologyRecord => ({
  cluster: 'p.example.com:5432/main',
  epoch: 1,
  primary: 'a.example.com',
  standbys: {
    'p.example.com': { upstream: 'a.example.com', slot: 'p_example_com' },
    'b.example.com': { upstream: 'a.example.com', slot: 'slot_b' },
  },
  timeline: 2,
  verb: 'pg switchover',
  updatedAt: '2026-12-01T00:00:00.000Z',
  ...over,
});

describe('pg topology record', () => {
  it('keys a cluster by its initial primary, port and name, and names a slot for every other node', () => {
    const pg = pillar().postgres;
    assert.equal(clusterKey(pg), 'p.example.com:5432/main');
    assert.equal(clusterKey({ ...pg, topology_key: 'sales' }), 'sales');
    assert.deepEqual(slotsFor(pg, 'a.example.com'), {
      'p.example.com': 'p_example_com',
      'b.example.com': 'slot_b',
    });
  });

  it('overlays the recorded primary and slots; the key stays the same afterwards', () => {
    const p = pillar();
    overlayTopology(p, new Map([[record().cluster, record()]]));
    const pg = p.postgres as Record<string, unknown>;
    assert.equal(pg.primary, 'a.example.com');
    assert.equal(pg.initial_primary, 'p.example.com');
    assert.deepEqual(pg.slots, { 'b.example.com': 'slot_b', 'p.example.com': 'p_example_com' });
    assert.equal(clusterKey(pg), 'p.example.com:5432/main');
    const other = pillar();
    overlayTopology(other, new Map([['elsewhere:5432/main', record({ cluster: 'elsewhere:5432/main' })]]));
    assert.equal(other.postgres.primary, 'p.example.com');
  });

  it('drift flags a second primary and a standby streaming from another upstream', () => {
    const p = pillar();
    overlayTopology(p, new Map([[record().cluster, record()]]));
    const status = {
      version: 150000,
      inRecovery: true,
      receiver: { status: 'streaming', senderHost: 'p.example.com' },
      lagSeconds: 0,
      lagBytes: 0,
      slots: [],
      replicas: [],
      pendingRestart: [],
    };
    const onB = statusFindings(status, pgLimits(p.postgres, 'b.example.com'));
    assert.deepEqual(
      onB.map((f) => [f.check, f.message]),
      [['upstream', 'standby streams from p.example.com, not from the recorded primary a.example.com']],
    );
    const ok = statusFindings(
      { ...status, receiver: { status: 'streaming', senderHost: '10.0.0.2' } },
      pgLimits(p.postgres, 'b.example.com'),
    );
    assert.deepEqual(ok, []);
    const twoPrimaries = statusFindings(
      { ...status, inRecovery: false, receiver: null },
      pgLimits(p.postgres, 'p.example.com'),
    );
    assert.equal(twoPrimaries[0]!.check, 'role');
    assert.match(twoPrimaries[0]!.message, /split brain/);
  });
});
