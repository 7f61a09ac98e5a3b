// The repository's replication formula compiles for its hosts on Debian and on FreeBSD: every state validates, the
// requisites resolve, and OS-specific paths, packages and states are the right ones. No host is contacted.
// Every per-OS case (FreeBSD 13/14, RHEL 9 family) is also compiled by test/unit/facts/os-cases.test.ts.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../../src/config/project.js';
import { compileHost } from '../../../src/engine/compile.js';
import { parseFacts } from '../../../src/facts/parse.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { overlayTopology, type TopologyRecord } from '../../../src/pg/lifecycle/topology.js';
import { createRenderEnv } from '../../../src/render/env.js';
import type { SecretResolver } from '../../../src/secrets/ref.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const fakeResolver: SecretResolver = { decrypt: async () => 'formula-test-password' };
const facts = (name: string) =>
  parseFacts(readFileSync(path.join(REPO_ROOT, 'test/fixtures/facts', name), 'utf8'));

async function compileFor(
  hostName: string,
  factsFile: string,
  editPillar: (p: Record<string, unknown>) => void = () => {},
) {
  const project = loadProject({ root: REPO_ROOT });
  const host = loadInventory(project).hosts.get(hostName)!;
  const f = facts(factsFile);
  const pillar = await compilePillar(project, host, { resolver: fakeResolver, facts: f });
  editPillar(pillar);
  return compileHost({ root: REPO_ROOT, env: createRenderEnv(REPO_ROOT), host, facts: f, pillar });
}

describe('the replication formula compiles', () => {
  it('for the Debian primary: settings, hba, pgpass, service, role, rewind grants and one slot per replica', async () => {
    const c = await compileFor('primary.example.com', 'debian12-pg15-running.txt');
    const ids = c.states.map((s) => s.decl.id);
    assert.deepEqual(ids.sort(), [
      'postgres_hba',
      'postgres_package',
      'postgres_pgpass',
      'postgres_service',
      'postgres_settings',
      'replication_role',
      'restart_gate',
      'rewind_grants',
      'slot_replica_example_com',
    ]);
    const rewind = c.states.find((s) => s.decl.id === 'rewind_grants')!;
    assert.equal(rewind.args.role, 'replicator');
    const settings = c.states.find((s) => s.decl.id === 'postgres_settings')!;
    assert.equal(settings.args.name, '/etc/postgresql/15/main/conf.d/orch-replication.conf');
    const role = c.states.find((s) => s.decl.id === 'replication_role')!;
    assert.equal(role.args.name, 'replicator');
    assert.ok(
      !JSON.stringify(role.prepared ?? '').includes('formula-test-password'),
      'only a verifier is prepared',
    );
  });

  it('slots are made without reserved WAL; postgres.drop_orphan_slots adds the orphan drop', async () => {
    const plain = await compileFor('primary.example.com', 'debian12-pg15-running.txt');
    assert.equal(plain.states.find((s) => s.decl.id === 'slot_replica_example_com')!.args.reserve_wal, false);
    assert.equal(
      plain.states.some((s) => s.decl.id === 'orphan_slots'),
      false,
    );
    const c = await compileFor('primary.example.com', 'debian12-pg15-running.txt', (p) => {
      (p.postgres as Record<string, unknown>).drop_orphan_slots = true;
    });
    const orphans = c.states.find((s) => s.decl.id === 'orphan_slots')!;
    assert.deepEqual(orphans.args.keep, ['replica_example_com']);
    assert.equal(orphans.args.drop, true);
  });

  it('postgres.hold_restarts: the service no longer restarts on a settings change, on either role', async () => {
    const watches = (c: Awaited<ReturnType<typeof compileFor>>) =>
      c.states.find((s) => s.decl.id === 'postgres_service')!.decl.requisites.watch.length;
    const hold = (p: Record<string, unknown>) => {
      (p.postgres as Record<string, unknown>).hold_restarts = true;
    };
    for (const host of ['primary.example.com', 'replica.example.com']) {
      assert.equal(watches(await compileFor(host, 'debian12-pg15-running.txt')), 1, host);
      const held = await compileFor(host, 'debian12-pg15-running.txt', hold);
      assert.equal(watches(held), 0, host);
      assert.ok(!held.states.some((s) => s.decl.id === 'restart_gate'), host);
    }
  });

  it('restarts in order: the service watches the restart gate, which on the primary waits for the standbys', async () => {
    const primary = await compileFor('primary.example.com', 'debian12-pg15-running.txt', (p) => {
      (p.postgres as Record<string, unknown>).restart_wait_seconds = 90;
    });
    const gate = primary.states.find((s) => s.decl.id === 'restart_gate')!;
    assert.deepEqual(gate.args.standbys, { 'replica.example.com': 'replica_example_com' });
    assert.equal(gate.args.wait_seconds, 90);
    assert.equal(gate.args.pgpass, '/var/lib/postgresql/.pgpass');
    const service = primary.states.find((s) => s.decl.id === 'postgres_service')!;
    assert.deepEqual(service.deps.watch, [gate.index]);
    const settings = primary.states.find((s) => s.decl.id === 'postgres_settings')!;
    assert.deepEqual(gate.deps.watch, [settings.index]);
    const replica = await compileFor('replica.example.com', 'debian12-pg15-running.txt');
    const rgate = replica.states.find((s) => s.decl.id === 'restart_gate')!;
    assert.deepEqual(rgate.args.standbys, {});
    const order = replica.states.map((s) => s.decl.id);
    assert.ok(order.indexOf('replica_built') < order.indexOf('restart_gate'));
    assert.ok(order.indexOf('restart_gate') < order.indexOf('postgres_service'));
  });

  it('for the Debian replica: the guarded replica build before the service', async () => {
    const c = await compileFor('replica.example.com', 'debian12-pg15-running.txt');
    const order = c.states.map((s) => s.decl.id);
    assert.ok(order.indexOf('replica_built') < order.indexOf('postgres_service'));
    assert.ok(order.indexOf('postgres_pgpass') < order.indexOf('replica_built'));
    const replica = c.states.find((s) => s.decl.id === 'replica_built')!;
    assert.equal(replica.args.slot, 'replica_example_com');
    assert.equal(replica.args.primary, 'primary.example.com');
    assert.equal(replica.args.keep_old_count, 1);
    assert.equal(replica.args.keep_old_days, 14);
  });

  it('after a recorded switchover: the primary states on the new primary, the replica build on the old one', async () => {
    const rec: TopologyRecord = {
      cluster: 'primary.example.com:5432/main',
      epoch: 1,
      primary: 'replica.example.com',
      standbys: { 'primary.example.com': { upstream: 'replica.example.com', slot: 'primary_example_com' } },
      timeline: 2,
      verb: 'pg switchover',
      updatedAt: '2026-12-01T00:00:00.000Z',
    };
    const overlay = (p: Record<string, unknown>) => overlayTopology(p, new Map([[rec.cluster, rec]]));
    const now = await compileFor('replica.example.com', 'debian12-pg15-running.txt', overlay);
    const ids = now.states.map((s) => s.decl.id);
    assert.ok(ids.includes('slot_primary_example_com') && !ids.includes('replica_built'), ids.join(' '));
    const old = await compileFor('primary.example.com', 'debian12-pg15-running.txt', overlay);
    const replica = old.states.find((s) => s.decl.id === 'replica_built')!;
    assert.equal(replica.args.primary, 'replica.example.com');
    assert.equal(replica.args.slot, 'primary_example_com');
  });

  it('for FreeBSD: its package and paths, conf.d included, and initdb on the primary only', async () => {
    const p = await compileFor('primary.example.com', 'freebsd14-pg15.txt');
    const byId = new Map(p.states.map((s) => [s.decl.id, s]));
    assert.equal(byId.get('postgres_package')!.args.name, 'postgresql15-server');
    assert.equal(byId.get('postgres_include_dir')!.args.name, '/var/db/postgres/data15/postgresql.conf');
    assert.equal(byId.get('postgres_pgpass')!.args.name, '/var/db/postgres/.pgpass');
    const order = p.states.map((s) => s.decl.id);
    assert.ok(order.indexOf('postgres_initdb') < order.indexOf('postgres_conf_d'));
    assert.ok(order.indexOf('postgres_include_dir') < order.indexOf('postgres_settings'));
    const r = await compileFor('replica.example.com', 'freebsd14-pg15.txt');
    assert.ok(!r.states.some((s) => s.decl.id === 'postgres_initdb'));
  });
});
