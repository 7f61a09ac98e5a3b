// Replication slots on lab hosts with real PostgreSQL: the primary's apply makes the replica's slot without
// reserved WAL (none is kept while the replica is not built); a slot no replica in the pillar owns is drift, named
// with the WAL it keeps; postgres.drop_orphan_slots: true makes the next apply drop it and drift is clean again.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labUp } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import { DEMO_IDENTITY as IDENTITY, downIfUp, psql, type DriftJson } from '../helpers/formula-lab.js';

const PRIMARY = 'primary.example.com';
const REPLICA = 'replica.example.com';

describe('replication slots on lab hosts', function () {
  this.timeout(600_000);
  let root: string;
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: IDENTITY } });

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-slots-it-'));
    for (const dir of ['states', 'templates', 'pillar', 'inventory']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await downIfUp([PRIMARY, REPLICA], root);
    await labUp([PRIMARY, REPLICA], { project: loadProject({ root }) });
  });
  after(async () => {
    await downIfUp([PRIMARY, REPLICA], root);
    rmSync(root, { recursive: true, force: true });
  });

  it('the primary alone: the replica slot exists and keeps no WAL', async () => {
    const a = await orch('-o', 'json', 'apply', PRIMARY);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    assert.equal(
      await psql(
        PRIMARY,
        "SELECT coalesce(restart_lsn::text, 'none') FROM pg_replication_slots WHERE slot_name = 'replica_example_com'",
      ),
      'none',
    );
  });

  it('an orphan slot is drift with the WAL it keeps; drop_orphan_slots drops it, the replica slot stays', async () => {
    const built = await orch('-o', 'json', 'apply', '*');
    assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}`);
    await psql(PRIMARY, "SELECT pg_create_physical_replication_slot('gone_replica', true)");
    const d = await orch('-o', 'json', 'drift', '*');
    assert.equal(d.code, 2, `${d.stdout}\n${d.stderr}`);
    const p = parseJson<DriftJson>(d).hosts.find((h) => h.host === PRIMARY)!;
    const orphan = (p.pg as { check: string; subject?: string; message: string }[]).filter(
      (f) => f.subject === 'gone_replica' && /belongs to no replica/.test(f.message),
    );
    assert.equal(orphan.length, 1, JSON.stringify(p.pg));
    assert.match(orphan[0]!.message, /keeps [\d.]+ (MiB|bytes) of WAL/);
    console.log(`      drift: ${orphan[0]!.message}`);

    const pillarFile = path.join(root, 'pillar/postgres.yaml');
    writeFileSync(
      pillarFile,
      readFileSync(pillarFile, 'utf8').replace('drop_orphan_slots: false', 'drop_orphan_slots: true'),
    );
    const fix = await orch('-o', 'json', 'apply', PRIMARY);
    assert.equal(fix.code, 0, `${fix.stdout}\n${fix.stderr}`);
    assert.equal(
      await psql(PRIMARY, "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots"),
      'replica_example_com',
    );
    const again = await orch('-o', 'json', 'drift', '*');
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  });
});
