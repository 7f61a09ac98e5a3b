// The formula's settings from templates/postgres/postgresql.conf.njk on lab hosts with real PostgreSQL: a template
// or pillar change is written and reloaded without a restart; a restart-needing one is reported as pending_restart
// and held while postgres.hold_restarts is on, then restarts the standby before the primary; a value the server
// rejects restores the old file and fails the state naming the line; a run with nothing new changes nothing.
import { strict as assert } from 'node:assert';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labUp } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import {
  DEMO_IDENTITY as IDENTITY,
  downIfUp,
  notClean,
  psql,
  sh,
  type ApplyReport,
} from '../helpers/formula-lab.js';

const PRIMARY = 'primary.example.com';
const REPLICA = 'replica.example.com';
const HOSTS = [PRIMARY, REPLICA];
const START = 'SELECT extract(epoch FROM pg_postmaster_start_time())';

describe('postgresql.conf from the formula template on lab hosts', function () {
  this.timeout(600_000);
  let root: string;
  let includeFile: string;
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: IDENTITY } });
  const pillar = () => path.join(root, 'pillar/postgres.yaml');
  const setPillar = (from: string, to: string) => {
    const text = readFileSync(pillar(), 'utf8');
    assert.ok(text.includes(from), from);
    writeFileSync(pillar(), text.replace(from, to));
  };
  const applyAll = async (): Promise<ApplyReport> => {
    const a = await orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    return parseJson<ApplyReport>(a);
  };
  const settingsState = (r: ApplyReport, host: string) =>
    r.hosts.find((h) => h.host === host)!.states.find((s) => s.id === 'postgres_settings')!;
  const started = async () =>
    Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Number(await psql(h, START))])));

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-conf-template-it-'));
    for (const dir of ['states', 'templates', 'pillar', 'inventory']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await downIfUp(HOSTS, root);
    await labUp(HOSTS, { project: loadProject({ root }) });
    const p = await orch('-o', 'json', 'apply', PRIMARY);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    await applyAll();
    includeFile = await psql(PRIMARY, "SELECT sourcefile FROM pg_settings WHERE name = 'wal_level'");
    assert.match(includeFile, /\/conf\.d\/orch-replication\.conf$/);
  });
  after(async () => {
    await downIfUp(HOSTS, root);
    rmSync(root, { recursive: true, force: true });
  });

  it('the rendered file is what the server reads; a second run changes nothing', async () => {
    const text = await sh(PRIMARY, `cat ${includeFile}`);
    assert.match(text, /^# Managed by orch .*postgresql\.conf\.njk/m);
    assert.match(text, /^wal_level = 'replica'$/m);
    assert.match(text, /^max_wal_senders = 10$/m);
    assert.deepEqual(notClean(await applyAll()), []);
    const check = await orch('-o', 'json', 'apply', '--test', '*');
    assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    assert.deepEqual(notClean(parseJson<ApplyReport>(check)), []);
  });

  it('a change to the template and to its pillar settings is reloaded, without a restart', async () => {
    appendFileSync(
      path.join(root, 'templates/postgres/postgresql.conf.njk'),
      'log_min_duration_statement = 250\n',
    );
    setPillar('    max_wal_senders: 10\n', "    max_wal_senders: 10\n    work_mem: '12MB'\n");
    const before = await started();
    const r = await applyAll();
    for (const h of HOSTS) {
      const s = settingsState(r, h);
      assert.equal(s.status, 'changed', `${h}: ${s.comment}`);
      assert.match(s.comment, /updated and reloaded/);
      assert.doesNotMatch(s.comment, /restart needed/);
      assert.equal(await psql(h, 'SHOW work_mem'), '12MB');
      assert.equal(await psql(h, 'SHOW log_min_duration_statement'), '250ms');
    }
    assert.deepEqual(await started(), before, 'no server restarted');
    assert.deepEqual(notClean(await applyAll()), []);
  });

  it('a restart-needing change: pending_restart while restarts are held, then the standby restarts first', async () => {
    setPillar('  hold_restarts: false\n', '  hold_restarts: true\n');
    setPillar('    max_wal_senders: 10\n', '    max_wal_senders: 10\n    max_connections: 150\n');
    const before = await started();
    const held = await applyAll();
    for (const h of HOSTS) {
      assert.match(settingsState(held, h).comment, /restart needed for: max_connections/);
      assert.equal(
        await psql(h, "SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'"),
        't',
      );
    }
    assert.deepEqual(await started(), before, 'held: no server restarted');

    setPillar('  hold_restarts: true\n', '  hold_restarts: false\n');
    await applyAll();
    const after = await started();
    assert.ok(
      after[PRIMARY] > before[PRIMARY] && after[REPLICA] > before[REPLICA],
      JSON.stringify({ before, after }),
    );
    assert.ok(after[REPLICA] < after[PRIMARY], 'the standby restarted before the primary');
    for (const h of HOSTS) assert.equal(await psql(h, 'SHOW max_connections'), '150');
  });

  it('a value the server rejects: the old file is restored and the state fails naming the line', async () => {
    const before = await sh(PRIMARY, `cat ${includeFile}`);
    setPillar("    work_mem: '12MB'\n", "    work_mem: 'lots'\n");
    const a = await orch('-o', 'json', 'apply', PRIMARY);
    assert.notEqual(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const s = settingsState(parseJson<ApplyReport>(a), PRIMARY);
    assert.equal(s.result, false);
    const line = before.split('\n').findIndex((l) => l.startsWith('work_mem')) + 1;
    assert.match(
      s.comment,
      new RegExp(`orch-replication\\.conf line ${line}: work_mem: setting could not be applied`),
    );
    assert.match(s.comment, /previous file is restored/);
    assert.equal(await sh(PRIMARY, `cat ${includeFile}`), before);
    assert.equal(await psql(PRIMARY, 'SHOW work_mem'), '12MB');

    setPillar("    work_mem: 'lots'\n", "    work_mem: '12MB'\n");
    assert.deepEqual(notClean(await applyAll()), []);
  });
});
