// The lifecycle verbs on three light lab hosts with real PostgreSQL (a primary and two standbys built by the
// formula): switchover to a standby and back, with rows written before each switchover read on every node after
// it, no base backup taken (the data directory, PG_VERSION and base/ keep their inodes and no copy is left beside
// them), apply changing nothing and drift clean after each; --test changes nothing (bytes and mtimes of the data
// and config directories); follow repoints a standby that streams from elsewhere; a second primary made by hand
// is flagged by pg status and drift, and follow refuses to act; promote refuses while the old primary runs and a
// candidate that is behind, and with the primary stopped fences it and fails over, the other standby following.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { loadProject } from '../../src/config/project.js';
import { labUp, type LabHost } from '../../src/lab/index.js';
import { parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import {
  DEMO_IDENTITY,
  downIfUp,
  formulaProjectDir,
  notClean,
  psql,
  sh,
  waitUntil,
  writeFormulaHosts,
  type ApplyReport,
  type FormulaHost,
} from '../helpers/formula-lab.js';

const P = 'lifep.example.com';
const A = 'lifea.example.com';
const B = 'lifeb.example.com';
const ALL = [P, A, B];
const DATA = '/var/lib/postgresql/15/main';
const CONF = '/etc/postgresql/15/main';

interface LifecycleJson {
  jid: string;
  state: string;
  steps: { host: string; step: string; status: string; detail: string }[];
  exit_code: number;
}

describe('pg lifecycle verbs on lab hosts (primary + two standbys)', function () {
  this.timeout(900_000);
  let root: string;
  let hosts: LabHost[] = [];
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: DEMO_IDENTITY }, timeoutMs: 300_000 });

  const inRecovery = (h: string) => psql(h, 'SELECT pg_is_in_recovery()');
  const senderOf = (h: string) => psql(h, 'SELECT sender_host FROM pg_stat_wal_receiver');
  /** Inodes that a base backup (a new data directory) would change. */
  const inodes = (h: string) =>
    sh(h, `stat -c '%i' ${DATA} ${DATA}/PG_VERSION ${DATA}/base; ls -d ${DATA}.orch-* 2>/dev/null`);
  /** Bytes and mtimes of every file of the data and config directories. */
  const snapshot = (h: string) =>
    sh(
      h,
      `find ${DATA} ${CONF} -type f -printf '%p %s %T@\\n' | sort; find ${DATA} ${CONF} -type f -exec md5sum {} + | sort`,
    );

  async function applyAndDriftClean(): Promise<void> {
    const a = await orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, a.stderr);
    const report = parseJson<ApplyReport>(a);
    assert.deepEqual(
      report.hosts.flatMap((h) =>
        h.states.filter((s) => s.status === 'changed').map((s) => `${h.host} ${s.id}`),
      ),
      [],
      'apply changed nothing',
    );
    assert.deepEqual(notClean(report), []);
    const d = await orch('drift', '*', '--no-progress');
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }

  async function everyNodeHas(note: string): Promise<void> {
    for (const h of ALL)
      assert.equal(
        await waitUntil('1', () => psql(h, `SELECT count(*) FROM life WHERE note = '${note}'`)),
        '1',
        `${note} on ${h}`,
      );
  }

  before(async () => {
    root = formulaProjectDir('orch-life-it-');
    await downIfUp(ALL, root);
    hosts = await labUp(ALL, { project: loadProject({ root }) });
    const fh = (n: string): FormulaHost => ({ name: n, ip: hosts.find((h) => h.name === n)!.ip });
    writeFormulaHosts(root, fh(P), [fh(A), fh(B)]);
    const r = await orch('apply', '*', '--accept-new-hostkeys', '--no-progress');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await psql(P, 'CREATE TABLE life (id serial PRIMARY KEY, note text)');
  });

  after(async () => {
    await downIfUp(ALL, root);
    rmSync(root, { recursive: true, force: true });
  });

  it('switchover --test prints the plan and changes no byte or mtime of the data and config directories', async () => {
    // A first read sets hint bits on the catalog pages it touches; a checkpoint (a restartpoint on the standbys)
    // writes them. From then on only a write could change a file.
    assert.equal((await orch('pg', 'switchover', A, '--test')).code, 0);
    for (const h of ALL) await psql(h, 'CHECKPOINT');
    const before = await Promise.all(ALL.map(snapshot));
    const r = await orch('-o', 'json', 'pg', 'switchover', A, '--test');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'unchanged');
    assert.ok(out.steps.some((s) => s.status === 'planned' && s.step === 'promote' && s.host === A));
    assert.deepEqual(await Promise.all(ALL.map(snapshot)), before);
    assert.equal(await inRecovery(P), 'f');
  });

  it('switchover to A: no data lost, no base backup, the others follow A, apply and drift clean', async () => {
    await psql(P, "INSERT INTO life (note) VALUES ('before-first')");
    await everyNodeHas('before-first');
    const ino = await Promise.all(ALL.map(inodes));
    const r = await orch('-o', 'json', 'pg', 'switchover', A);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'done');
    assert.deepEqual(await Promise.all(ALL.map(inRecovery)), ['t', 'f', 't'], 'A is the only primary');
    assert.equal(await senderOf(P), A);
    assert.equal(await senderOf(B), A);
    await psql(A, "INSERT INTO life (note) VALUES ('on-a')");
    await everyNodeHas('before-first');
    await everyNodeHas('on-a');
    assert.deepEqual(await Promise.all(ALL.map(inodes)), ino, 'same data directories: no base backup');
    const job = await orch('-o', 'json', 'jobs', 'lookup', out.jid);
    assert.equal(job.code, 0, job.stderr);
    assert.match(job.stdout, /"step": "verify"/);
    assert.match(job.stdout, /"step": "converge"/);
    await applyAndDriftClean();
  });

  it('switchover back to P keeps every row and is clean again', async () => {
    await psql(A, "INSERT INTO life (note) VALUES ('before-back')");
    await everyNodeHas('before-back');
    const ino = await Promise.all(ALL.map(inodes));
    const r = await orch('pg', 'switchover', P);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok {3}lifep\.example\.com: promote: out of recovery on timeline 3/);
    assert.deepEqual(await Promise.all(ALL.map(inRecovery)), ['f', 't', 't']);
    await psql(P, "INSERT INTO life (note) VALUES ('on-p')");
    for (const n of ['before-first', 'on-a', 'before-back', 'on-p']) await everyNodeHas(n);
    assert.deepEqual(await Promise.all(ALL.map(inodes)), ino);
    await applyAndDriftClean();
  });

  it('a standby of another upstream is flagged, and follow repoints it in place', async () => {
    // B cascades from A by hand: drift and pg status name it.
    await psql(
      B,
      `ALTER SYSTEM SET primary_conninfo = 'user=replicator passfile=/var/lib/postgresql/.pgpass host=${A} port=5432'`,
    );
    await psql(B, 'ALTER SYSTEM RESET primary_slot_name');
    await psql(B, 'SELECT pg_reload_conf()');
    assert.equal(await waitUntil(A, () => senderOf(B)), A);
    const st = await orch('pg', 'status');
    assert.equal(st.code, 1, st.stdout);
    assert.match(
      st.stdout,
      /lifeb\.example\.com: standby streams from lifea\.example\.com, not from the recorded primary lifep\.example\.com/,
    );
    // Exit 3, not 2: pg_make_replica's own check refuses a standby of another upstream (a failed check wins).
    const d = await orch('-o', 'json', 'drift', '*');
    assert.equal(d.code, 3, d.stdout);
    assert.match(d.stdout, /"check": "upstream"/);
    const f = await orch('pg', 'follow', B);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal(await senderOf(B), P);
    await applyAndDriftClean();
  });

  it('promote refuses while the old primary runs and a candidate that is behind; with P stopped, B takes over', async () => {
    const running = await orch('pg', 'promote', A);
    assert.equal(running.code, 7, running.stdout + running.stderr);
    assert.match(running.stderr, /lifep\.example\.com is reachable and its server runs/);
    // A stops receiving; B gets one more row; then the primary's server is stopped.
    await psql(A, "ALTER SYSTEM SET primary_conninfo = ''");
    await psql(A, 'SELECT pg_reload_conf()');
    assert.equal(await waitUntil('', () => senderOf(A)), '');
    await psql(P, "INSERT INTO life (note) VALUES ('only-b-has-it')");
    assert.equal(
      await waitUntil('1', () => psql(B, "SELECT count(*) FROM life WHERE note = 'only-b-has-it'")),
      '1',
    );
    await sh(P, 'pg_ctlcluster 15 main stop -m fast');
    const behind = await orch('pg', 'promote', A);
    assert.equal(behind.code, 7, behind.stdout + behind.stderr);
    assert.match(behind.stderr, /behind lifeb\.example\.com/);
    const ok = await orch('pg', 'promote', B);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /lifep\.example\.com: fence: standby\.signal written/);
    assert.equal(await sh(P, `test -f ${DATA}/standby.signal && echo fenced`), 'fenced');
    assert.equal(await inRecovery(B), 'f');
    assert.equal(await waitUntil(B, () => senderOf(A)), B);
    await psql(B, "INSERT INTO life (note) VALUES ('on-b')");
    for (const n of ['only-b-has-it', 'on-b'])
      assert.equal(
        await waitUntil('1', () => psql(A, `SELECT count(*) FROM life WHERE note = '${n}'`)),
        '1',
        n,
      );
  });

  it('a second primary made by hand is flagged by pg status and drift; follow refuses the diverged node', async () => {
    await psql(A, 'SELECT pg_promote(true, 60)');
    await psql(A, "INSERT INTO life (note) VALUES ('diverged')");
    const st = await orch('pg', 'status');
    assert.equal(st.code, 1);
    assert.match(
      st.stdout,
      /2 servers are out of recovery \(lifea\.example\.com, lifeb\.example\.com\): split brain/,
    );
    const d = await orch('-o', 'json', 'drift', '*');
    assert.equal(d.code, 3, d.stdout);
    assert.match(d.stdout, /split brain/);
    const f = await orch('pg', 'follow', P);
    assert.equal(f.code, 7, f.stdout + f.stderr);
    assert.match(f.stderr, /2 servers are out of recovery/);
  });
});
