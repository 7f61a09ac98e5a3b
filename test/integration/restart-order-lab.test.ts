// Restart order on lab hosts with real PostgreSQL: a restart-only setting raised in the pillar (max_connections)
// and one `orch apply '*'` (both hosts in parallel) restart the standby before the primary; with the standby's
// server unreachable the primary's apply fails without restarting and reports the pending setting.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labUp } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import { DEMO_IDENTITY as IDENTITY, downIfUp, psql, sh, type ApplyReport } from '../helpers/formula-lab.js';

const PRIMARY = 'primary.example.com';
const REPLICA = 'replica.example.com';
const START = 'SELECT extract(epoch FROM pg_postmaster_start_time())';

describe('restarts on lab hosts: standbys before the primary', function () {
  this.timeout(600_000);
  let root: string;
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: IDENTITY } });
  const pillar = () => path.join(root, 'pillar/postgres.yaml');
  const setPillar = (from: string, to: string) => {
    const text = readFileSync(pillar(), 'utf8');
    assert.ok(text.includes(from), from);
    writeFileSync(pillar(), text.replace(from, to));
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-restart-it-'));
    for (const dir of ['states', 'templates', 'pillar', 'inventory']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await downIfUp([PRIMARY, REPLICA], root);
    await labUp([PRIMARY, REPLICA], { project: loadProject({ root }) });
    const p = await orch('-o', 'json', 'apply', PRIMARY);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    const all = await orch('-o', 'json', 'apply', '*');
    assert.equal(all.code, 0, `${all.stdout}\n${all.stderr}`);
  });
  after(async () => {
    await downIfUp([PRIMARY, REPLICA], root);
    rmSync(root, { recursive: true, force: true });
  });

  it('max_connections raised: one apply restarts the standby first, then the primary', async () => {
    const before = { p: Number(await psql(PRIMARY, START)), r: Number(await psql(REPLICA, START)) };
    setPillar('    max_wal_senders: 10\n', '    max_wal_senders: 10\n    max_connections: 150\n');
    const a = await orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const after = { p: Number(await psql(PRIMARY, START)), r: Number(await psql(REPLICA, START)) };
    assert.ok(after.p > before.p && after.r > before.r, JSON.stringify({ before, after }));
    assert.ok(after.r < after.p, `standby started ${after.r}, primary ${after.p}`);
    assert.equal(await psql(PRIMARY, 'SHOW max_connections'), '150');
    assert.equal(await psql(REPLICA, 'SHOW max_connections'), '150');
    const gate = parseJson<ApplyReport>(a)
      .hosts.find((h) => h.host === PRIMARY)!
      .states.find((s) => s.id === 'restart_gate')!;
    assert.match(gate.comment, /restart due for: max_connections/);
    console.log(`      standby restarted ${(after.p - after.r).toFixed(2)} s before the primary`);
    const again = await orch('-o', 'json', 'apply', '*');
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  });

  it('the primary applied alone: a standby outside the run without the settings fails it at once', async () => {
    // restart_wait_seconds stays 600: the standby is not in the run, so nothing would restart it meanwhile.
    setPillar('    max_connections: 150\n', '    max_connections: 160\n');
    const before = await psql(PRIMARY, START);
    const a = await orch('-o', 'json', 'apply', PRIMARY);
    assert.notEqual(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const gate = parseJson<ApplyReport>(a).hosts[0]!.states.find((s) => s.id === 'restart_gate')!;
    assert.equal(gate.result, false);
    assert.match(
      gate.comment,
      /standby replica\.example\.com \(not in this run\): runs max_connections = 150/,
    );
    assert.match(
      gate.comment,
      /not restarting: standby\(s\) replica\.example\.com, not in this run, do not run the new settings: apply them first/,
    );
    assert.match(gate.comment, /restart pending for: max_connections/);
    assert.equal(await psql(PRIMARY, START), before, 'the primary was not restarted');
    // The standby applied alone restarts with the setting; then the primary alone restarts too.
    const r = await orch('-o', 'json', 'apply', REPLICA);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(await psql(REPLICA, 'SHOW max_connections'), '160');
    const p = await orch('-o', 'json', 'apply', PRIMARY);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    const opened = parseJson<ApplyReport>(p).hosts[0]!.states.find((s) => s.id === 'restart_gate')!;
    assert.match(opened.comment, /restart due for: max_connections/);
    assert.equal(await psql(PRIMARY, 'SHOW max_connections'), '160');
    assert.ok(Number(await psql(PRIMARY, START)) > Number(before), 'the primary restarted');
  });

  it("with the standby's server unreachable: the primary reports pending_restart, no restart", async () => {
    await sh(REPLICA, 'service postgresql stop');
    setPillar('    max_connections: 160\n', '    max_connections: 170\n');
    const before = await psql(PRIMARY, START);
    const a = await orch('-o', 'json', 'apply', PRIMARY);
    assert.notEqual(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const states = parseJson<ApplyReport>(a).hosts[0]!.states;
    const gate = states.find((s) => s.id === 'restart_gate')!;
    assert.equal(gate.result, false);
    assert.match(gate.comment, /not restarting: standby\(s\) replica\.example\.com, not in this run/);
    assert.match(gate.comment, /restart pending for: max_connections/);
    assert.equal(await psql(PRIMARY, START), before, 'the primary was not restarted');
    assert.equal(await psql(PRIMARY, 'SHOW max_connections'), '160');
    assert.equal(
      await psql(PRIMARY, "SELECT string_agg(name, ',') FROM pg_settings WHERE pending_restart"),
      'max_connections',
    );
  });

  it('both in the run with the standby held back: the primary waits restart_wait_seconds, then fails safe', async () => {
    // The standby keeps its restart for a window (hold_restarts on its host only): in the run, so waited for.
    await sh(REPLICA, 'service postgresql start');
    setPillar('  restart_wait_seconds: 600\n', '  restart_wait_seconds: 5\n');
    writeFileSync(path.join(root, 'pillar', 'hold.yaml'), 'postgres:\n  hold_restarts: true\n');
    const top = path.join(root, 'pillar', 'top.yaml');
    const topText = readFileSync(top, 'utf8');
    writeFileSync(top, `${topText.trimEnd()}\n${JSON.stringify(REPLICA)}:\n  - hold\n`);
    const before = await psql(PRIMARY, START);
    const a = await orch('-o', 'json', 'apply', '*');
    assert.notEqual(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const gate = parseJson<ApplyReport>(a)
      .hosts.find((h) => h.host === PRIMARY)
      ?.states.find((s) => s.id === 'restart_gate');
    assert.ok(gate, `${a.stdout}\n${a.stderr}`);
    assert.match(
      gate.comment,
      /not restarting: standby\(s\) replica\.example\.com did not restart with the new settings within 5 s/,
    );
    assert.equal(await psql(PRIMARY, START), before, 'the primary was not restarted');
  });
});
