// The lifecycle verbs on three light lab hosts with real PostgreSQL (a primary and two standbys built by the
// formula): switchover to a standby and back, with rows written before each switchover read on every node after
// it, no base backup taken (the data directory, PG_VERSION and base/ keep their inodes and no copy is left beside
// them), apply changing nothing and drift clean after each; --test changes nothing (bytes and mtimes of the data
// and config directories, after settling the cluster), and so do follow --test and promote --test; a standby that
// streams from elsewhere is drift (exit 2, a "wrong upstream" line) and follow repoints it in place; a second
// primary made by hand is flagged by pg status and drift (exit 2, a "split brain" line), and follow refuses to act;
// promote refuses while the old primary runs and a candidate that is behind, and with the primary stopped fences it
// and fails over, the other standby following.
import { strict as assert } from 'node:assert';
import { parseJson } from '../helpers/cli.js';
import { psql, sh, waitUntil, type DriftJson } from '../helpers/formula-lab.js';
import {
  DATA,
  inRecovery,
  inodes,
  LifecycleLab,
  senderOf,
  settle,
  snapshot,
  snapshotChanges,
  type LifecycleJson,
} from '../helpers/pg-lifecycle-lab.js';

const P = 'lifep.example.com';
const A = 'lifea.example.com';
const B = 'lifeb.example.com';
const ALL = [P, A, B];

describe('pg lifecycle verbs on lab hosts (primary + two standbys)', function () {
  this.timeout(900_000);
  const lab = new LifecycleLab('orch-life-it-', P, [A, B]);
  const orch = lab.orch;
  const applyAndDriftClean = () => lab.applyAndDriftClean();
  const everyNodeHas = (note: string) => lab.rowOn(note);

  before(() => lab.up());
  after(() => lab.down());

  it('switchover --test prints the plan and changes no byte or mtime of the data and config directories', async () => {
    // A first read sets hint bits on the catalog pages it touches; settling the cluster writes them.
    assert.equal((await orch('pg', 'switchover', A, '--test')).code, 0);
    await settle(P, [A, B]);
    const before = await Promise.all(ALL.map(snapshot));
    const r = await orch('-o', 'json', 'pg', 'switchover', A, '--test');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'unchanged');
    assert.ok(out.steps.some((s) => s.status === 'planned' && s.step === 'promote' && s.host === A));
    assert.deepEqual(snapshotChanges(ALL, before, await Promise.all(ALL.map(snapshot))), []);
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
    // Drift, not a failed check: pg_make_replica's check read B and refuses it for its upstream.
    const d = await orch('-o', 'json', 'drift', '*');
    assert.equal(d.code, 2, d.stdout);
    const hostsOf = (r: typeof d) => parseJson<DriftJson>(r).hosts;
    const b = hostsOf(d).find((h) => h.host === B)!;
    assert.equal(b.status, 'drifted');
    assert.deepEqual(b.errors, []);
    assert.ok(b.pg.some((f) => f.check === 'upstream'));
    assert.deepEqual(
      b.drifted.filter((i) => i.diverged).map((i) => [i.id, i.diverged]),
      [['replica_built', 'upstream']],
    );
    const table = await orch('drift', '*', '--no-progress');
    assert.equal(table.code, 2, table.stdout);
    assert.match(
      table.stdout,
      /^ {6}wrong upstream: it streams from another node than the recorded primary/m,
    );
    // follow --test: the plan, and no byte or mtime changed on any node.
    assert.equal((await orch('pg', 'follow', B, '--test')).code, 0);
    await settle(P, [A, B]);
    const before = await Promise.all(ALL.map(snapshot));
    const t = await orch('-o', 'json', 'pg', 'follow', B, '--test');
    assert.equal(t.code, 0, t.stdout + t.stderr);
    const plan = parseJson<LifecycleJson>(t);
    assert.equal(plan.state, 'unchanged');
    assert.ok(
      plan.steps.some((s) => s.status === 'planned' && s.host === B),
      t.stdout,
    );
    assert.deepEqual(
      snapshotChanges(ALL, before, await Promise.all(ALL.map(snapshot))),
      [],
      'follow --test changed nothing',
    );
    assert.equal(await senderOf(B), A);
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
    // promote --test with P down (no WAL arrives anywhere): the plan, and no byte or mtime changed anywhere.
    assert.equal((await orch('pg', 'promote', B, '--test')).code, 0);
    for (const h of [A, B]) await psql(h, 'CHECKPOINT');
    const before = await Promise.all(ALL.map(snapshot));
    const t = await orch('-o', 'json', 'pg', 'promote', B, '--test');
    assert.equal(t.code, 0, t.stdout + t.stderr);
    const plan = parseJson<LifecycleJson>(t);
    assert.equal(plan.state, 'unchanged');
    assert.ok(
      plan.steps.some((s) => s.status === 'planned' && s.step === 'promote' && s.host === B),
      t.stdout,
    );
    assert.deepEqual(
      snapshotChanges(ALL, before, await Promise.all(ALL.map(snapshot))),
      [],
      'promote --test changed nothing',
    );
    assert.equal(await sh(P, `test -f ${DATA}/standby.signal || echo unfenced`), 'unfenced');
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
    // Drift (exit 2): every node was read; A is a second primary, which the table says in so many words.
    const d = await orch('-o', 'json', 'drift', '*');
    assert.equal(d.code, 2, d.stdout);
    const a = parseJson<DriftJson>(d).hosts.find((h) => h.host === A)!;
    assert.equal(a.status, 'drifted');
    assert.deepEqual(a.errors, []);
    assert.ok(a.pg.some((f) => f.check === 'role' && /two primaries \(split brain\)/.test(f.message)));
    assert.deepEqual(
      a.drifted.filter((i) => i.diverged).map((i) => [i.id, i.diverged]),
      [['replica_built', 'role']],
    );
    const table = await orch('drift', '*', '--no-progress');
    assert.equal(table.code, 2, table.stdout);
    assert.match(table.stdout, /^lifea\.example\.com +.*drifted/m);
    assert.match(
      table.stdout,
      /^ {6}split brain: a primary \(or a former one\) where the topology has a standby/m,
    );
    assert.match(
      table.stdout,
      /DRIFTED +postgres role: server is out of recovery .* two primaries \(split brain\)/,
    );
    const f = await orch('pg', 'follow', P);
    assert.equal(f.code, 7, f.stdout + f.stderr);
    assert.match(f.stderr, /2 servers are out of recovery/);
  });
});
