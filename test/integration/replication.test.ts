// The flagship job on fresh lab hosts with real PostgreSQL: `orch apply '*'` gives a configured primary and a
// streaming replica; re-runs and check mode report zero changes; a new replication password is applied without
// breaking replication; pg_make_replica refuses on the primary; the replication password (a canary) never shows
// in output, on the hosts' process lists, or in the PostgreSQL server log.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { execInHost, labUp } from '../../src/lab/index.js';
import { decryptValue } from '../../src/secrets/crypto.js';
import { REPO_ROOT, parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import {
  DEMO_IDENTITY as IDENTITY,
  downIfUp,
  notClean,
  psql,
  sh,
  type ApplyReport as Report,
  type DriftJson,
} from '../helpers/formula-lab.js';

const PRIMARY = 'primary.example.com';
const REPLICA = 'replica.example.com';

describe('PostgreSQL streaming replication on lab hosts', function () {
  this.timeout(900_000);
  let root: string;
  const canaries: string[] = [];
  const outputs: string[] = [];

  const orch = async (...args: string[]): Promise<CliResult> => {
    const r = await runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: IDENTITY } });
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-repl-it-'));
    for (const dir of ['states', 'templates', 'pillar', 'inventory']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    const project = loadProject({ root });
    await downIfUp([PRIMARY, REPLICA], root);
    await labUp([PRIMARY, REPLICA], { project });
    const pillar = readFileSync(path.join(root, 'pillar/postgres.yaml'), 'utf8');
    const token = /password: !secret (\S+)/.exec(pillar)![1]!;
    canaries.push(await decryptValue(token, [IDENTITY]));
  });

  after(async () => {
    await downIfUp([PRIMARY, REPLICA], root);
    rmSync(root, { recursive: true, force: true });
  });

  it('check mode on fresh hosts reports changes and unknowns, and changes nothing', async () => {
    const r = await orch('-o', 'json', 'apply', '*', '--test');
    assert.equal(r.code, 0, r.stderr);
    const report = parseJson<Report>(r);
    const replica = report.hosts.find((h) => h.host === REPLICA)!;
    assert.equal(replica.states.find((s) => s.id === 'replica_built')!.status, 'unknown');
    assert.ok(report.hosts.every((h) => h.states.every((s) => s.status !== 'failed')));
    assert.equal(await sh(REPLICA, 'test -e /var/lib/postgresql/.pgpass && echo yes || echo no'), 'no');
  });

  it('fails closed with a wrong identity: exit 4, nothing written anywhere', async () => {
    const other = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { generateIdentity } from 'age-encryption'; process.stdout.write(await generateIdentity())",
      ],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    const r = await runOrch(['--root', root, 'apply', '*'], { env: { ORCH_AGE_IDENTITY: other } });
    outputs.push(r.stdout, r.stderr);
    assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /cannot decrypt pillar key 'postgres\.replication\.password'/);
    assert.equal(await sh(REPLICA, 'test -e /var/lib/postgresql/.pgpass && echo yes || echo no'), 'no');
    assert.equal(
      await sh(
        PRIMARY,
        'test -e /etc/postgresql/15/main/conf.d/orch-replication.conf && echo yes || echo no',
      ),
      'no',
    );
  });

  it('a template error next to a secret aborts without showing the secret', async () => {
    const file = path.join(root, 'states/postgres/primary.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      `${original}\nbroken:\n  cmd.run:\n    - name: echo {{ pillar.postgres.replication.password }} {{ pillar.postgres.no_such_key }}\n`,
    );
    try {
      const r = await orch('apply', '*');
      assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /postgres\.no_such_key/);
    } finally {
      writeFileSync(file, original);
    }
  });

  it("`orch apply '*'` builds a primary and a streaming replica", async () => {
    const ps: string[] = [];
    const sampler = setInterval(() => {
      try {
        ps.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
      } catch {
        /* a failed sample is just skipped */
      }
    }, 100);
    let r: CliResult;
    try {
      r = await orch('-o', 'json', 'apply', '*');
    } finally {
      clearInterval(sampler);
    }
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(ps.length > 5, 'process lists were sampled during the run');
    assert.ok(!ps.some((p) => p.includes(canaries[0]!)), 'the password appeared in a process list');

    await psql(
      PRIMARY,
      "CREATE TABLE orch_it(note text); INSERT INTO orch_it VALUES ('written on the primary')",
    );
    let seen = '';
    for (let i = 0; i < 40 && seen !== 'written on the primary'; i++) {
      await new Promise((res) => setTimeout(res, 250));
      seen = await psql(REPLICA, 'SELECT note FROM orch_it').catch(() => '');
    }
    assert.equal(seen, 'written on the primary');
    assert.equal(await psql(REPLICA, 'SELECT status FROM pg_stat_wal_receiver'), 'streaming');
    assert.equal(
      await psql(PRIMARY, "SELECT active FROM pg_replication_slots WHERE slot_name = 'replica_example_com'"),
      't',
    );
  });

  it('a second apply and check mode report zero changes', async () => {
    const again = await orch('-o', 'json', 'apply', '*');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(notClean(parseJson<Report>(again)), []);
    for (const h of parseJson<Report>(again).hosts) assert.deepEqual(h.stats, { connections: 1, execs: 2 });
    const test = await orch('-o', 'json', 'apply', '*', '--test');
    assert.equal(test.code, 0, test.stderr);
    assert.deepEqual(notClean(parseJson<Report>(test)), []);
  });

  it('orch pg status shows the primary and a streaming standby', async () => {
    const r = await orch('-o', 'json', 'pg', 'status');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const text = JSON.stringify(JSON.parse(r.stdout));
    assert.match(text, /"primary"/);
    assert.match(text, /streaming/);
  });

  it('pg_make_replica refuses on the primary and changes nothing there', async () => {
    const script = await sh(REPLICA, 'cat /usr/local/sbin/pg_make_replica');
    const before = await psql(PRIMARY, 'SELECT count(*) FROM orch_it');
    const r = await execInHost(PRIMARY, ['/bin/sh', '-s'], { input: script, timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /refused: .*primary/i);
    assert.equal(await psql(PRIMARY, 'SELECT pg_is_in_recovery()'), 'f');
    assert.equal(await psql(PRIMARY, 'SELECT count(*) FROM orch_it'), before);
  });

  it('a new replication password is applied once and replication keeps working', async () => {
    const fresh = `New-${Date.now()}-pw:with\\chars`;
    const encrypted = await runOrch(['--root', root, 'secrets', 'encrypt'], {
      env: { ORCH_AGE_IDENTITY: IDENTITY },
      input: fresh,
    });
    assert.equal(encrypted.code, 0, encrypted.stderr);
    const file = path.join(root, 'pillar/postgres.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/password: !secret \S+/, `password: ${encrypted.stdout.trim()}`),
    );
    const r = await orch('-o', 'json', 'apply', '*');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const changed = parseJson<Report>(r).hosts.flatMap((h) =>
      h.states.filter((s) => s.status === 'changed').map((s) => `${h.host} ${s.id}`),
    );
    assert.ok(changed.includes(`${PRIMARY} replication_role`), changed.join(', '));
    assert.ok(changed.includes(`${REPLICA} postgres_pgpass`), changed.join(', '));
    await psql(PRIMARY, "INSERT INTO orch_it VALUES ('after the password change')");
    let n = '';
    for (let i = 0; i < 40 && n !== '1'; i++) {
      await new Promise((res) => setTimeout(res, 250));
      n = await psql(REPLICA, "SELECT count(*) FROM orch_it WHERE note = 'after the password change'").catch(
        () => '',
      );
    }
    assert.equal(n, '1');
    const again = await orch('-o', 'json', 'apply', '*');
    assert.deepEqual(notClean(parseJson<Report>(again)), [], 'an unchanged password is not a change');
    canaries.push(fresh);
  });

  it('drift: clean after converge; names a hand-edited file, a stopped standby and a dropped slot; apply fixes it', async () => {
    const clean = await orch('-o', 'json', 'drift', '*');
    assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);

    await sh(PRIMARY, "echo '# added by hand' >> /etc/postgresql/15/main/pg_hba.conf");
    await sh(REPLICA, 'service postgresql stop');
    await psql(PRIMARY, "SELECT pg_drop_replication_slot('replica_example_com')");
    const hba = await sh(
      PRIMARY,
      'sha256sum /etc/postgresql/15/main/pg_hba.conf; stat -c %Y /etc/postgresql/15/main/pg_hba.conf',
    );

    const drifted = await orch('-o', 'json', 'drift', '*');
    assert.equal(drifted.code, 2, `${drifted.stdout}\n${drifted.stderr}`);
    const report = parseJson<DriftJson>(drifted);
    const p = report.hosts.find((h) => h.host === PRIMARY)!;
    const r = report.hosts.find((h) => h.host === REPLICA)!;
    assert.deepEqual(p.drifted.map((d) => d.id).sort(), ['postgres_hba', 'slot_replica_example_com']);
    assert.match(p.drifted.find((d) => d.id === 'postgres_hba')!.diff!, /-# added by hand/);
    assert.ok(
      r.drifted.some((d) => d.id === 'postgres_service'),
      JSON.stringify(r),
    );
    assert.ok(
      r.pg.some((f) => f.check === 'streaming' || f.check === 'server'),
      JSON.stringify(r.pg),
    );
    assert.equal(
      await sh(
        PRIMARY,
        'sha256sum /etc/postgresql/15/main/pg_hba.conf; stat -c %Y /etc/postgresql/15/main/pg_hba.conf',
      ),
      hba,
      'drift must not touch the host',
    );

    const fix = await orch('-o', 'json', 'apply', '*');
    assert.equal(fix.code, 0, `${fix.stdout}\n${fix.stderr}`);
    let again = await orch('-o', 'json', 'drift', '*');
    for (let i = 0; i < 20 && again.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 500));
      again = await orch('-o', 'json', 'drift', '*');
    }
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);

    const history = await orch('drift', 'history', '--host', PRIMARY);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /drift/i);
  });

  it('apply --async returns a job id; the job is looked up later with per-host, per-state results', async () => {
    const q = await orch('apply', REPLICA, '--async');
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    assert.match(jid, /^\d{20}$/);
    const w = await orch('jobs', 'wait', jid, '--timeout', '300');
    assert.equal(w.code, 0, `${w.stdout}\n${w.stderr}`);
    const l = await orch('-o', 'json', 'jobs', 'lookup', jid);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /replica_built/);
    const human = await orch('jobs', 'lookup', jid);
    assert.match(human.stdout, new RegExp(`${REPLICA.replace(/\./g, '\\.')}:`));
  });

  it('the replication password never appears in output or in the PostgreSQL server log', async () => {
    const shown = await Promise.all([
      orch('render', PRIMARY),
      orch('render', REPLICA),
      orch('pillar', 'show', REPLICA),
      orch('apply', '*', '--test', '-v'),
      orch('drift', '*', '--format', 'markdown'),
    ]);
    for (const r of shown) assert.equal(r.code, 0, r.stderr);
    const texts = outputs.join('\n');
    const log = await sh(PRIMARY, 'cat /var/log/postgresql/*.log 2>/dev/null || true');
    const store = readdirSync(path.join(root, '.orch'))
      .filter((f) => f.startsWith('jobs.sqlite'))
      .map((f) => readFileSync(path.join(root, '.orch', f)).toString('latin1'))
      .join('');
    assert.ok(store.length > 0, 'the job store was read');
    assert.ok(log.length > 0, 'the server log was read');
    for (const canary of canaries) {
      assert.ok(!texts.includes(canary), 'a replication password appeared in orch output');
      assert.ok(!log.includes(canary), 'a replication password appeared in the server log');
      assert.ok(!store.includes(canary), 'a replication password appeared in the job store');
    }
  });
});
