// The lifecycle verbs on booted Debian hosts (systemd as PID 1, the release's own PostgreSQL package): bullseye
// (13) and trixie (17), each with a primary and two standbys built by the formula from the package clusters.
// Switchover to a standby and back: rows written before each switchover are read on every node after it, no base
// backup was taken (the data directory, PG_VERSION and base/ keep their inodes, no copy is left beside them, the
// system identifier is the same, and no node reports a base backup in pg_stat_progress_basebackup), apply changes
// nothing and drift is clean. Then the primary's cluster unit is stopped, promote fences it (standby.signal) and
// fails over to a standby, the other standby follows, and rejoin brings the old primary back with pg_rewind: it
// streams from the new primary, its diverged row is gone, nothing written on the new primary is lost, same inodes,
// and apply and drift are clean. Needs Linux, root, debootstrap and systemd-container: without them the suite fails
// (ORCH_TEST_UNIT_ONLY=1 skips).
import { strict as assert } from 'node:assert';
import { parseSuite } from '../../src/lab/index.js';
import { requireBootedLab } from '../helpers/booted-lab.js';
import { parseJson } from '../helpers/cli.js';
import { psql, sh, waitUntil } from '../helpers/formula-lab.js';
import {
  countOf,
  inRecovery,
  LifecycleLab,
  senderOf,
  type LifecycleJson,
} from '../helpers/pg-lifecycle-lab.js';

for (const os of ['bullseye', 'trixie']) {
  const v = String(parseSuite(os).postgresql);
  const P = `lc${v}p.example.com`;
  const A = `lc${v}a.example.com`;
  const B = `lc${v}b.example.com`;
  const ALL = [P, A, B];
  const unit = `postgresql@${v}-main`;

  describe(`pg lifecycle verbs on booted ${os} hosts (PostgreSQL ${v}, primary + two standbys)`, function () {
    this.timeout(900_000);
    const lab = new LifecycleLab(`orch-life-${os}-`, P, [A, B], os);
    const orch = lab.orch;
    const everyNodeHas = (note: string) => lab.rowOn(note);
    const witnesses = () => Promise.all(ALL.map(lab.inodes));
    const noBaseBackup = async (before: string[]): Promise<void> => {
      assert.deepEqual(
        await witnesses(),
        before,
        'same data directories and system identifier: no base backup',
      );
      for (const h of ALL)
        assert.equal(await psql(h, 'SELECT count(*) FROM pg_stat_progress_basebackup'), '0', h);
    };
    const row = (h: string, note: string) => psql(h, `INSERT INTO life (note) VALUES ('${note}')`);

    before(async function () {
      await requireBootedLab(this, os);
      await lab.up();
      assert.equal(await psql(P, 'SHOW server_version_num').then((n) => n.slice(0, 2)), v);
    });

    after(() => lab.down());

    it('switchover to A: rows on every node, no base backup, the others follow A, apply and drift clean', async () => {
      await row(P, 'before-first');
      await everyNodeHas('before-first');
      const ids = await witnesses();
      assert.equal(new Set(ids.map((s) => s.split('\n').pop())).size, 1, 'one system identifier');
      const r = await orch('-o', 'json', 'pg', 'switchover', A);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = parseJson<LifecycleJson>(r);
      assert.equal(out.state, 'done');
      assert.deepEqual(await Promise.all(ALL.map(inRecovery)), ['t', 'f', 't'], 'A is the only primary');
      assert.equal(await waitUntil(A, () => senderOf(P)), A);
      assert.equal(await waitUntil(A, () => senderOf(B)), A);
      await row(A, 'on-a');
      for (const n of ['before-first', 'on-a']) await everyNodeHas(n);
      await noBaseBackup(ids);
      await lab.applyAndDriftClean();
    });

    it('switchover back to P keeps every row, takes no base backup, and is clean again', async () => {
      await row(A, 'before-back');
      await everyNodeHas('before-back');
      const ids = await witnesses();
      const r = await orch('-o', 'json', 'pg', 'switchover', P);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(parseJson<LifecycleJson>(r).state, 'done');
      assert.deepEqual(await Promise.all(ALL.map(inRecovery)), ['f', 't', 't']);
      assert.equal(await waitUntil(P, () => senderOf(A)), P);
      assert.equal(await waitUntil(P, () => senderOf(B)), P);
      await row(P, 'on-p');
      for (const n of ['before-first', 'on-a', 'before-back', 'on-p']) await everyNodeHas(n);
      await noBaseBackup(ids);
      await lab.applyAndDriftClean();
    });

    it("promote A with P's unit stopped: P fenced, B follows A, rows written on A are read on B", async () => {
      // P takes a row no standby gets (they stop receiving first), so rejoin has a real divergence to rewind.
      for (const s of [A, B]) {
        await psql(s, "ALTER SYSTEM SET primary_conninfo = ''");
        await psql(s, 'SELECT pg_reload_conf()');
        assert.equal(await waitUntil('', () => senderOf(s)), '', s);
      }
      await row(P, 'only-on-p');
      await sh(P, `systemctl stop ${unit}`);
      assert.equal(await sh(P, `systemctl is-active ${unit}`), 'inactive');
      const r = await orch('-o', 'json', 'pg', 'promote', A);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = parseJson<LifecycleJson>(r);
      assert.equal(out.state, 'done');
      assert.ok(
        out.steps.some((s) => s.host === P && s.step === 'fence' && s.status === 'ok'),
        r.stdout,
      );
      assert.equal(await sh(P, `test -f ${lab.data}/standby.signal && echo fenced`), 'fenced');
      assert.equal(await inRecovery(A), 'f');
      assert.equal(await waitUntil(A, () => senderOf(B), 120, 500), A);
      await row(A, 'on-a-after-promote');
      assert.equal(await waitUntil('1', () => countOf(B, 'on-a-after-promote')), '1');
      assert.equal(await countOf(A, 'only-on-p'), '0');
    });

    it('rejoin rewinds P, which streams from A with every row of A; no base backup; apply and drift clean', async () => {
      const ino = await lab.inodes(P);
      const r = await orch('-o', 'json', 'pg', 'rejoin', P);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = parseJson<LifecycleJson>(r);
      assert.equal(out.state, 'done');
      assert.ok(
        out.steps.some((s) => s.step === 'rewind' && s.host === P && s.status === 'ok'),
        r.stdout,
      );
      assert.match(
        out.steps.find((s) => s.step === 'dry-run')?.detail ?? '',
        /servers diverged at WAL location/,
      );
      assert.equal(await sh(P, `systemctl is-active ${unit}`), 'active');
      assert.equal(await inRecovery(P), 't');
      assert.equal(await waitUntil(A, () => senderOf(P), 120, 500), A);
      assert.equal(await psql(P, 'SELECT status FROM pg_stat_wal_receiver'), 'streaming');
      await row(A, 'after-rejoin');
      for (const n of ['before-first', 'on-a', 'before-back', 'on-p', 'on-a-after-promote', 'after-rejoin'])
        await everyNodeHas(n);
      assert.equal(await countOf(P, 'only-on-p'), '0', 'the diverged row is gone: P was rewound');
      assert.equal(await lab.inodes(P), ino, 'same data directory: no base backup');
      await lab.applyAndDriftClean();
    });
  });
}
