// orch pg rejoin on two light lab hosts with real PostgreSQL (a primary and a standby built by the formula): the
// standby stops receiving, the primary takes a row the standby never gets and is stopped, the standby is promoted
// and takes rows; `rejoin --test` changes no byte or mtime of the old primary's data and config directories; rejoin
// rewinds the old primary with pg_rewind (its diverged row is gone, so it was rewound, not merely started), it
// streams from the new primary and has every row written there, its own postgresql.auto.conf is kept, no base
// backup was taken (same inodes), and apply and drift are clean after; a lifecycle verb queued with --async is run
// by the background worker and its steps are in `orch jobs lookup`; the --on-event hook is told of the rejoin.
// Then the rejoined standby is promoted by hand and written to: rejoin refuses it while it is a primary, drift
// (exit 2) and pg status flag the split brain, and once put back into recovery by hand the diverged timeline;
// rejoin rewinds it while it runs. Last, with wal_log_hints off in its pg_control, rejoin refuses and names the
// guarded rebuild, which, queued with --async, rebuilds it and tells the --on-event hook (a rebuild event).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJson } from '../helpers/cli.js';
import { psql, sh, waitUntil, type DriftJson } from '../helpers/formula-lab.js';
import {
  DATA,
  countOf,
  inRecovery,
  inodes,
  LifecycleLab,
  senderOf,
  settle,
  snapshot,
  snapshotChanges,
  type LifecycleJson,
} from '../helpers/pg-lifecycle-lab.js';

const P = 'rejp.example.com';
const A = 'reja.example.com';

describe('pg rejoin on lab hosts (a promoted standby and its diverged old primary)', function () {
  this.timeout(900_000);
  const lab = new LifecycleLab('orch-rejoin-it-', P, [A]);
  const orch = lab.orch;
  const count = countOf;
  let root = '';

  before(async () => {
    await lab.up();
    root = lab.root;
    await psql(P, "INSERT INTO life (note) VALUES ('before')");
    assert.equal(await waitUntil('1', () => count(A, 'before')), '1');
  });

  after(() => lab.down());

  it('promote A with P stopped after P took a row A never got; rows written on A', async () => {
    await psql(A, "ALTER SYSTEM SET primary_conninfo = ''");
    await psql(A, 'SELECT pg_reload_conf()');
    assert.equal(await waitUntil('', () => senderOf(A)), '');
    await psql(P, "INSERT INTO life (note) VALUES ('only-on-p')");
    await psql(P, "ALTER SYSTEM SET work_mem = '7MB'"); // P's own postgresql.auto.conf, to be kept
    await sh(P, 'pg_ctlcluster 15 main stop -m fast');
    const r = await orch('pg', 'promote', A);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const note of ['on-a-1', 'on-a-2']) await psql(A, `INSERT INTO life (note) VALUES ('${note}')`);
    const refused = await orch('pg', 'rejoin', A);
    assert.equal(refused.code, 7, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /reja\.example\.com is the primary/);
  });

  it('rejoin --test changes no byte or mtime of the old primary nor of the new one', async () => {
    // A first plan reads the catalog (hint bits); settling A writes what it dirtied.
    assert.equal((await orch('pg', 'rejoin', P, '--test')).code, 0);
    await settle(A, []);
    const before = await Promise.all([P, A].map(snapshot));
    const r = await orch('-o', 'json', 'pg', 'rejoin', P, '--test');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'unchanged');
    assert.ok(out.steps.some((s) => s.status === 'planned' && s.step === 'rewind' && s.host === P));
    assert.deepEqual(snapshotChanges([P, A], before, await Promise.all([P, A].map(snapshot))), []);
  });

  it('rejoin rewinds P, which streams from A with every row of A, keeping its own config; apply and drift clean', async () => {
    const ino = await inodes(P);
    const evFile = path.join(root, 'event.json');
    const r = await orch('-o', 'json', 'pg', 'rejoin', P, '--on-event', `cat > '${evFile}'`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'done');
    const ev = JSON.parse(readFileSync(evFile, 'utf8')) as {
      event: string;
      ok: boolean;
      jid: string;
      steps: { step: string }[];
    };
    assert.deepEqual([ev.event, ev.ok, ev.jid], ['rejoin', true, out.jid]);
    assert.ok(
      ev.steps.some((s) => s.step === 'rewind'),
      'the event carries the steps',
    );
    const dry = out.steps.find((s) => s.step === 'dry-run');
    assert.match(dry?.detail ?? '', /servers diverged at WAL location/);
    assert.equal(await inRecovery(P), 't');
    assert.equal(await waitUntil(A, () => senderOf(P)), A);
    await psql(A, "INSERT INTO life (note) VALUES ('after-rejoin')");
    for (const note of ['before', 'on-a-1', 'on-a-2', 'after-rejoin'])
      assert.equal(await waitUntil('1', () => count(P, note)), '1', note);
    assert.equal(await count(P, 'only-on-p'), '0', 'the diverged row is gone: P was rewound');
    assert.equal(await count(A, 'on-a-1'), '1', 'nothing written on A was lost');
    assert.equal(await psql(P, 'SHOW work_mem'), '7MB', "P's own postgresql.auto.conf was kept");
    assert.equal(await inodes(P), ino, 'same data directory: no base backup');
    const job = await orch('-o', 'json', 'jobs', 'lookup', out.jid);
    assert.equal(job.code, 0, job.stderr);
    assert.match(job.stdout, /"step": "rewind"/);

    await lab.applyAndDriftClean();
  });

  it('pg follow --async is run by a worker; jobs lookup shows its steps', async () => {
    const q = await orch('-o', 'json', 'pg', 'follow', '--cluster-host', A, '--async');
    assert.equal(q.code, 0, q.stdout + q.stderr);
    const { jid } = parseJson<{ jid: string }>(q);
    const status = async () =>
      parseJson<{ status: string }>(await orch('-o', 'json', 'jobs', 'lookup', jid)).status;
    assert.equal(await waitUntil('succeeded', status, 120, 500), 'succeeded');
    const job = await orch('-o', 'json', 'jobs', 'lookup', jid);
    assert.match(job.stdout, /"step": "check"/);
    assert.match(job.stdout, /already streams from reja\.example\.com/);
  });

  it('a standby promoted by hand and written to: refused while a primary, flagged as diverged once back in recovery, rejoined while it runs', async () => {
    await psql(P, 'SELECT pg_promote(true, 60)');
    await psql(P, "INSERT INTO life (note) VALUES ('p-by-hand')");
    const primary = await orch('pg', 'rejoin', P);
    assert.equal(primary.code, 7, primary.stdout + primary.stderr);
    assert.match(primary.stderr, /2 servers are out of recovery \(.*rejp\.example\.com.*\): split brain/);
    const split = await orch('-o', 'json', 'drift', '*');
    assert.equal(split.code, 2, split.stdout);
    const p1 = parseJson<DriftJson>(split).hosts.find((h) => h.host === P)!;
    assert.deepEqual(p1.errors, []);
    assert.deepEqual(
      p1.drifted.filter((i) => i.diverged).map((i) => i.diverged),
      ['role'],
    );
    const st1 = await orch('pg', 'status');
    assert.equal(st1.code, 1, st1.stdout);
    assert.match(st1.stdout, /2 servers are out of recovery \(.*\): split brain/);

    // Back into recovery by hand: it runs as a standby on its own, newer timeline and cannot stream from A.
    await sh(
      P,
      `su postgres -s /bin/sh -c 'touch ${DATA}/standby.signal' && pg_ctlcluster 15 main restart -m fast`,
    );
    assert.equal(await waitUntil('t', () => inRecovery(P)), 't');
    const st2 = await orch('pg', 'status');
    assert.equal(st2.code, 1, st2.stdout);
    assert.match(
      st2.stdout,
      /rejp\.example\.com: standby on timeline (\d+), newer than the primary reja\.example\.com's timeline \d+: diverged/,
    );
    const tl = await orch('-o', 'json', 'drift', '*');
    assert.equal(tl.code, 2, tl.stdout);
    const p2 = parseJson<DriftJson>(tl).hosts.find((h) => h.host === P)!;
    assert.deepEqual(p2.errors, []);
    assert.deepEqual(
      p2.drifted.filter((i) => i.diverged).map((i) => i.diverged),
      ['timeline'],
    );
    const table = await orch('drift', '*', '--no-progress');
    assert.equal(table.code, 2, table.stdout);
    assert.match(table.stdout, /^ {6}diverged timeline: it has WAL the primary lacks/m);

    const ino = await inodes(P);
    const r = await orch('-o', 'json', 'pg', 'rejoin', P);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'done');
    assert.match(
      out.steps.find((s) => s.host === P && s.step === 'check')?.detail ?? '',
      /running standby that cannot follow reja\.example\.com/,
    );
    assert.ok(out.steps.some((s) => s.host === P && s.step === 'stop'));
    assert.match(
      out.steps.find((s) => s.step === 'dry-run')?.detail ?? '',
      /servers diverged at WAL location/,
    );
    assert.equal(await waitUntil(A, () => senderOf(P)), A);
    await psql(A, "INSERT INTO life (note) VALUES ('after-second-rejoin')");
    assert.equal(await waitUntil('1', () => count(P, 'after-second-rejoin')), '1');
    assert.equal(await count(P, 'p-by-hand'), '0', 'what P took on its own was rewound away');
    assert.equal(await inodes(P), ino, 'same data directory: no base backup');
    await lab.applyAndDriftClean();
  });

  it('without wal_log_hints rejoin refuses and names the guarded rebuild; that rebuild, queued, tells --on-event', async () => {
    // P promoted by hand with wal_log_hints off: its pg_control says so, and pg_rewind cannot tell what changed.
    await psql(P, 'ALTER SYSTEM SET wal_log_hints = off');
    await sh(P, 'pg_ctlcluster 15 main restart -m fast');
    await psql(P, 'SELECT pg_promote(true, 60)');
    await psql(P, 'CHECKPOINT');
    assert.match(
      await sh(P, `/usr/lib/postgresql/15/bin/pg_controldata ${DATA} | grep '^wal_log_hints'`),
      /^wal_log_hints setting: +off$/,
    );
    await sh(P, 'pg_ctlcluster 15 main stop -m fast');
    const refused = await orch('pg', 'rejoin', P);
    assert.equal(refused.code, 7, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /neither wal_log_hints nor data checksums/);
    assert.match(refused.stderr, /orch apply rejp\.example\.com --force-rebuild rejp\.example\.com/);

    const evFile = path.join(root, 'rebuild-event.json');
    const q = await orch(
      '-o',
      'json',
      'apply',
      P,
      '--force-rebuild',
      P,
      '--async',
      '--on-event',
      `cat > '${evFile}'`,
    );
    assert.equal(q.code, 0, q.stdout + q.stderr);
    const { jid } = parseJson<{ jid: string }>(q);
    const status = async () =>
      parseJson<{ status: string }>(await orch('-o', 'json', 'jobs', 'lookup', jid)).status;
    assert.equal(await waitUntil('succeeded', status, 480, 500), 'succeeded');
    const ev = JSON.parse(readFileSync(evFile, 'utf8')) as {
      event: string;
      ok: boolean;
      jid: string;
      hosts: string[];
      message: string;
    };
    assert.deepEqual([ev.event, ev.ok, ev.jid, ev.hosts], ['rebuild', true, jid, [P]]);
    assert.match(ev.message, /replica built from/);
    const job = await orch('-o', 'json', 'jobs', 'lookup', jid);
    assert.match(job.stdout, /"on_event": \{\s*"events": 1,\s*"failed": 0\s*\}/);
    assert.equal(await waitUntil(A, () => senderOf(P)), A);
    for (const note of ['before', 'on-a-1', 'after-rejoin', 'after-second-rejoin'])
      assert.equal(await waitUntil('1', () => count(P, note)), '1', note);
  });

  it('rejoin --rebuild-if-needed plans, then rebuilds a node pg_rewind cannot serve, keeping its old data', async () => {
    // P (a standby of A again) promoted by hand with wal_log_hints off, written to and stopped: rewind cannot.
    await psql(P, 'ALTER SYSTEM SET wal_log_hints = off');
    await sh(P, 'pg_ctlcluster 15 main restart -m fast');
    await psql(P, 'SELECT pg_promote(true, 60)');
    await psql(P, "INSERT INTO life (note) VALUES ('only-on-p-again')");
    await psql(P, 'CHECKPOINT');
    await sh(P, 'pg_ctlcluster 15 main stop -m fast');
    const sysid = async (h: string) =>
      sh(
        h,
        `/usr/lib/postgresql/15/bin/pg_controldata ${DATA} | sed -n 's/^Database system identifier: *//p'`,
      );
    const oldInode = (await sh(P, `stat -c '%i' ${DATA}/PG_VERSION`)).trim();

    await settle(A, []);
    const before = await Promise.all([P, A].map(snapshot));
    const plan = await orch('-o', 'json', 'pg', 'rejoin', P, '--rebuild-if-needed', '--test');
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const planned = parseJson<LifecycleJson>(plan);
    assert.equal(planned.state, 'unchanged');
    assert.ok(
      planned.steps.some((s) => s.status === 'planned' && s.step === 'rebuild' && s.host === P),
      plan.stdout,
    );
    assert.deepEqual(snapshotChanges([P, A], before, await Promise.all([P, A].map(snapshot))), []);

    const r = await orch('-o', 'json', 'pg', 'rejoin', P, '--rebuild-if-needed');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = parseJson<LifecycleJson>(r);
    assert.equal(out.state, 'done', r.stdout);
    assert.ok(
      out.steps.some((s) => s.status === 'ok' && s.step === 'rebuild' && s.host === P),
      r.stdout,
    );
    assert.ok(
      !out.steps.some((s) => s.step === 'rewind' || s.step === 'dry-run'),
      'no rewind was tried: it could not work',
    );
    assert.equal(await waitUntil(A, () => senderOf(P)), A);
    assert.equal(await inRecovery(P), 't');
    assert.equal(await sysid(P), await sysid(A), 'a copy of A');
    for (const note of ['before', 'on-a-1', 'after-rejoin']) assert.equal(await count(P, note), '1', note);
    assert.equal(await count(P, 'only-on-p-again'), '0', "A never had the hand-promoted P's row");
    // The replaced directory is kept beside the new one, with the row only it has.
    const kept = (
      await sh(P, `for d in ${DATA}.orch-old-*; do echo "$d $(stat -c '%i' "$d/PG_VERSION")"; done`)
    )
      .trim()
      .split('\n')
      .filter((l) => l.endsWith(` ${oldInode}`));
    assert.equal(kept.length, 1, 'the old data directory is kept');
    // The kept copy is drift until removed (by retention or by hand); removed, and the test's own setting undone
    // (the rebuild keeps a node's ALTER SYSTEM settings), the cluster is clean.
    await sh(P, `rm -rf ${DATA}.orch-old-*`);
    await psql(P, 'ALTER SYSTEM RESET wal_log_hints');
    await sh(P, 'pg_ctlcluster 15 main restart -m fast');
    assert.equal(await waitUntil(A, () => senderOf(P)), A);
    await lab.applyAndDriftClean();
  });

  it('promote with the old primary cut off needs a fence command that exits 0; rejoin brings it back', async () => {
    await psql(A, "INSERT INTO life (note) VALUES ('before-cut')");
    assert.equal(await waitUntil('1', () => count(P, 'before-cut')), '1');
    const postmaster = (await sh(A, `head -n 1 ${DATA}/postmaster.pid`)).trim();
    assert.match(postmaster, /^\d+$/);
    const fenced = path.join(root, 'fenced');
    // A's whole host off the network (its link down inside its namespace): neither orch nor P reaches it.
    await sh(A, 'ip link set dev eth0 down');
    try {
      const refused = await orch('pg', 'promote', P);
      assert.equal(refused.code, 7, refused.stdout + refused.stderr);
      assert.match(refused.stderr, /reja\.example\.com is unreachable .*--fence-command/);
      const failing = await orch('pg', 'promote', P, '--fence-command', 'exit 3');
      assert.equal(failing.code, 7, failing.stdout + failing.stderr);
      assert.match(failing.stderr, /the fence command exited 3/);
      assert.equal(await inRecovery(P), 't', 'not promoted while unfenced');
      // A fence from the controller: A's server stopped at once (light lab hosts share this pid namespace).
      const fence =
        `printf '%s\\n' "$ORCH_FENCE_HOST" > '${fenced}' && kill -QUIT ${postmaster} && i=0 && ` +
        `while kill -0 ${postmaster} 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done; ` +
        `! kill -0 ${postmaster} 2>/dev/null`;
      const ok = await orch('-o', 'json', 'pg', 'promote', P, '--fence-command', fence);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.ok(
        parseJson<LifecycleJson>(ok).steps.some(
          (s) => s.host === A && s.step === 'fence' && /exited 0/.test(s.detail),
        ),
        ok.stdout,
      );
      assert.equal(readFileSync(fenced, 'utf8'), `${A}\n`);
      assert.equal(await inRecovery(P), 'f');
      await psql(P, "INSERT INTO life (note) VALUES ('after-cut')");
    } finally {
      await sh(A, 'ip link set dev eth0 up');
    }
    // A was not shut down cleanly: rejoin finishes its crash recovery read-only, rewinds it, and it streams.
    const r = await orch('pg', 'rejoin', A);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /reja\.example\.com: recover: crash recovery finished read-only/);
    assert.match(r.stdout, /reja\.example\.com: rewind: /);
    assert.equal(await waitUntil(P, () => senderOf(A)), P);
    for (const note of ['before-cut', 'after-cut'])
      assert.equal(await waitUntil('1', () => count(A, note)), '1', note);
    await lab.applyAndDriftClean();
  });
});
