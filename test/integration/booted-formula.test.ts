// The replication formula on booted Debian hosts (systemd as PID 1, the distro's own PostgreSQL package, which
// created and started its cluster), one suite per release with primary and replica on that release: bullseye
// (13), bookworm (15), trixie (17). Each: check mode on package defaults writes nothing; one converge; a row
// written on the primary is read on the replica; re-apply and drift are clean; `orch pg status`; a setting that
// needs a restart restarts only that cluster; a cluster unit stopped by hand is reported by drift and started
// by apply; a host whose package cluster holds a database of its own is refused as a replica, left as it was. On
// bookworm also: a trixie (17) replica of the 15 primary is refused and its cluster left as it was.
// Needs Linux, root, debootstrap and systemd-container: without them the suite fails (ORCH_TEST_UNIT_ONLY=1 skips).
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadProject } from '../../src/config/project.js';
import { labUp, SUITES, type LabHost } from '../../src/lab/index.js';
import { requireBootedLab } from '../helpers/booted-lab.js';
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
  type DriftJson,
  type FormulaHost,
} from '../helpers/formula-lab.js';

const name = (label: string): string => `${label}.example.com`;
const hostOf = (h: LabHost): FormulaHost => ({ name: h.name, ip: h.ip });

for (const suite of SUITES) {
  const v = String(suite.postgresql);
  const PRIMARY = name(`pg${v}p`);
  const REPLICA = name(`pg${v}r`);
  // The other-major replica: on bookworm only (one such case is enough; it costs a boot).
  const OTHER = suite.name === 'bookworm' ? name(`pg${v}x`) : undefined;
  // A host whose package-made cluster holds a database of its own: refused as a replica without force.
  const HELD = name(`pg${v}d`);
  const conf = `/etc/postgresql/${v}/main`;
  const unit = `postgresql@${v}-main`;

  describe(`replication formula on booted ${suite.name} hosts (PostgreSQL ${v})`, function () {
    this.timeout(600_000);
    let root = '';
    let hosts: FormulaHost[] = [];
    const all = (): string[] => [PRIMARY, REPLICA, HELD, ...(OTHER ? [OTHER] : [])];
    const orch = (...args: string[]): Promise<CliResult> =>
      runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: DEMO_IDENTITY }, timeoutMs: 540_000 });
    const apply = async (...args: string[]): Promise<ApplyReport> => {
      const r = await orch('-o', 'json', 'apply', ...args);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      return parseJson<ApplyReport>(r);
    };
    const changed = (r: ApplyReport): string[] =>
      r.hosts.flatMap((h) => h.states.filter((s) => s.status === 'changed').map((s) => `${h.host} ${s.id}`));
    const fileStamp = (host: string, file: string) => sh(host, `sha256sum ${file}; stat -c %Y.%y ${file}`);
    const streams = async (note: string): Promise<void> => {
      await psql(PRIMARY, `INSERT INTO orch_booted VALUES ('${note}')`);
      const seen = await waitUntil('1', () =>
        psql(REPLICA, `SELECT count(*) FROM orch_booted WHERE note = '${note}'`),
      );
      assert.equal(seen, '1', `the row '${note}' written on the primary did not reach the replica`);
    };

    before(async function () {
      await requireBootedLab(this, suite.name, ...(OTHER ? ['trixie'] : []));
      root = formulaProjectDir(`orch-booted-${suite.name}-`);
      await downIfUp(all(), root);
      const project = loadProject({ root });
      // Both hosts boot in parallel (the other-major host only when its test runs).
      const pair = await labUp([PRIMARY, REPLICA], { project, os: suite.name });
      hosts = pair.map(hostOf);
      writeFormulaHosts(root, hosts[0]!, [hosts[1]!]);
    });

    after(async () => {
      if (!root) return;
      await downIfUp(all(), root);
      rmSync(root, { recursive: true, force: true });
    });

    it('check mode on the package defaults reports work and writes nothing', async () => {
      const before = await Promise.all([
        fileStamp(PRIMARY, `${conf}/pg_hba.conf`),
        fileStamp(REPLICA, `${conf}/pg_hba.conf`),
      ]);
      const r = await orch('-o', 'json', 'apply', '*', '--test');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const report = parseJson<ApplyReport>(r);
      assert.ok(
        report.hosts.every((h) => h.states.every((s) => s.status !== 'failed')),
        r.stdout,
      );
      const primary = report.hosts.find((h) => h.host === PRIMARY)!;
      assert.equal(
        primary.states.find((s) => s.id === 'postgres_package')!.status,
        'clean',
        'the package is installed',
      );
      assert.equal(primary.states.find((s) => s.id === 'postgres_settings')!.status, 'would_change');
      const after = await Promise.all([
        fileStamp(PRIMARY, `${conf}/pg_hba.conf`),
        fileStamp(REPLICA, `${conf}/pg_hba.conf`),
      ]);
      assert.deepEqual(after, before, 'check mode changed pg_hba.conf');
      for (const h of [PRIMARY, REPLICA]) {
        assert.equal(
          await sh(
            h,
            `ls ${conf}/conf.d/orch-replication.conf /var/lib/postgresql/.pgpass 2>/dev/null | wc -l`,
          ),
          '0',
        );
      }
    });

    it('one converge from the package-started clusters; a row written on the primary is read on the replica', async () => {
      const report = await apply('*');
      const replica = report.hosts.find((h) => h.host === REPLICA)!;
      const built = replica.states.find((s) => s.id === 'replica_built')!;
      assert.equal(
        built.status,
        'changed',
        `the replica must be built from the package's fresh cluster without force: ${built.comment}`,
      );
      await psql(PRIMARY, 'CREATE TABLE orch_booted(note text)');
      await streams('after the converge');
      assert.equal(await psql(REPLICA, 'SELECT status FROM pg_stat_wal_receiver'), 'streaming');
      assert.equal(await psql(REPLICA, 'SELECT pg_is_in_recovery()'), 't');
      assert.equal(
        await psql(REPLICA, 'SHOW server_version_num'),
        await psql(PRIMARY, 'SHOW server_version_num'),
      );
    });

    it('a second apply changes nothing; drift is clean; orch pg status shows the standby streaming', async () => {
      assert.deepEqual(notClean(await apply('*')), []);
      const drift = await orch('-o', 'json', 'drift', '*');
      assert.equal(drift.code, 0, `${drift.stdout}\n${drift.stderr}`);
      const status = await orch('-o', 'json', 'pg', 'status');
      assert.equal(status.code, 0, `${status.stdout}\n${status.stderr}`);
      const text = JSON.stringify(JSON.parse(status.stdout));
      assert.match(text, /"primary"/);
      assert.match(text, /streaming/);
    });

    it('a setting that needs a restart restarts that cluster only', async () => {
      // A second cluster on the primary: it must keep running untouched through the restart.
      await sh(PRIMARY, `pg_createcluster ${v} other --start >/dev/null 2>&1`);
      const pid = (cluster: string) =>
        sh(PRIMARY, `head -1 /var/lib/postgresql/${v}/${cluster}/postmaster.pid`);
      const [mainBefore, otherBefore] = [await pid('main'), await pid('other')];
      assert.match(otherBefore, /^\d+$/, 'the second cluster runs');
      const file = `${root}/pillar/postgres.yaml`;
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(/^( {4}wal_log_hints: .*)$/m, "$1\n    shared_buffers: '96MB'"),
      );
      const report = await apply('*');
      const done = changed(report);
      for (const h of [PRIMARY, REPLICA]) {
        assert.ok(done.includes(`${h} postgres_settings`), done.join(', '));
        const svc = report.hosts.find((x) => x.host === h)!.states.find((s) => s.id === 'postgres_service')!;
        assert.match(svc.comment, new RegExp(`${unit}: restarted`), svc.comment);
      }
      assert.equal(await psql(PRIMARY, 'SHOW shared_buffers'), '96MB');
      assert.notEqual(await pid('main'), mainBefore, 'the main cluster was restarted');
      assert.equal(await pid('other'), otherBefore, 'the other cluster on the host was restarted too');
      await streams('after the restart');
      assert.deepEqual(notClean(await apply('*')), []);
    });

    it('the cluster unit stopped by hand: drift reports it, apply starts it, streaming resumes', async () => {
      await sh(REPLICA, `systemctl stop ${unit}`);
      assert.equal(await sh(REPLICA, `systemctl is-active ${unit}`), 'inactive');
      const drift = await orch('-o', 'json', 'drift', '*');
      assert.equal(drift.code, 2, `${drift.stdout}\n${drift.stderr}`);
      const r = parseJson<DriftJson>(drift).hosts.find((h) => h.host === REPLICA)!;
      const service = r.drifted.find((d) => d.id === 'postgres_service');
      assert.match(service?.diff ?? '', new RegExp(`${unit}: stopped -> running`), JSON.stringify(r));
      // pg_make_replica counts a stopped standby of this primary as one to rebuild, so it reports that too.
      assert.deepEqual(
        r.drifted.map((d) => d.id).filter((id) => id !== 'replica_built'),
        ['postgres_service'],
      );
      const fix = await apply('*');
      const done = changed(fix);
      const allowed = [`${REPLICA} postgres_service`, `${REPLICA} replica_built`];
      assert.ok(done.length > 0 && done.every((c) => allowed.includes(c)), done.join(', '));
      assert.equal(await sh(REPLICA, `systemctl is-active ${unit}`), 'active');
      await streams('after the start');
      const clean = await orch('-o', 'json', 'drift', '*');
      assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
    });

    it('a package cluster holding a database of its own is refused as a replica and left as it was', async () => {
      const [d] = await labUp([HELD], { project: loadProject({ root }), os: suite.name });
      writeFormulaHosts(root, hosts[0]!, [hosts[1]!, hostOf(d!)]);
      // The cluster first (the primary's pg_hba lets the new node in), so what refuses is the data, not the access.
      await apply(`${PRIMARY},${REPLICA}`);
      await psql(HELD, 'CREATE DATABASE app');
      const ident = 'SELECT system_identifier FROM pg_control_system()';
      const dbs = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database";
      const before = [await psql(HELD, ident), await psql(HELD, dbs)];
      assert.match(before[1]!, /\bapp\b/);
      const r = await orch('-o', 'json', 'apply', HELD);
      assert.notEqual(r.code, 0, r.stdout);
      const built = parseJson<ApplyReport>(r).hosts[0]!.states.find((s) => s.id === 'replica_built')!;
      assert.equal(built.status, 'failed', built.comment);
      assert.match(
        built.comment,
        /a PRIMARY is running on .* not pristine: it has 4 databases/,
        built.comment,
      );
      assert.match(built.comment, /force this host/, built.comment);
      assert.deepEqual([await psql(HELD, ident), await psql(HELD, dbs)], before);
      assert.equal(await psql(HELD, 'SELECT pg_is_in_recovery()'), 'f');
      assert.equal(await sh(HELD, `systemctl is-active ${unit}`), 'active');
      writeFormulaHosts(root, hosts[0]!, [hosts[1]!]);
      await downIfUp([HELD], root);
      await streams('after the refused rebuild');
    });

    if (OTHER) {
      it('a replica of another major version (trixie, 17) is refused and its cluster left as it was', async () => {
        const [x] = await labUp([OTHER], { project: loadProject({ root }), os: 'trixie' });
        writeFormulaHosts(root, hosts[0]!, [hosts[1]!, hostOf(x!)]);
        // The cluster first: the primary's pg_hba lets the new node in, so what refuses is the version, not the
        // access. The standby is in the same run: a restart the new node's settings need waits for it (restart gate).
        await apply(`${PRIMARY},${REPLICA}`);
        const ident = 'SELECT system_identifier FROM pg_control_system()';
        const before = [await psql(OTHER, ident), await sh(OTHER, 'ls -a /var/lib/postgresql/17')];
        const r = await orch('-o', 'json', 'apply', OTHER);
        assert.notEqual(r.code, 0, r.stdout);
        const built = parseJson<ApplyReport>(r).hosts[0]!.states.find((s) => s.id === 'replica_built')!;
        assert.equal(built.status, 'failed', built.comment);
        assert.match(built.comment, /refused: .*\b15\b.*\b17\b|refused: .*\b17\b.*\b15\b/, built.comment);
        assert.deepEqual([await psql(OTHER, ident), await sh(OTHER, 'ls -a /var/lib/postgresql/17')], before);
        assert.equal(await psql(OTHER, 'SELECT pg_is_in_recovery()'), 'f');
        assert.equal(await sh(OTHER, 'systemctl is-active postgresql@17-main'), 'active');
        const slot = OTHER.replace(/[^a-z0-9]/g, '_');
        const active = `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${slot}' AND active`;
        assert.equal(await psql(PRIMARY, active), '0');
        await streams('after the refusal');
      });
    }
  });
}
