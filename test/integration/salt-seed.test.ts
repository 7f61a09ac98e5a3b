// End to end on a lab host (real sshd): the seed 003 Salt tree (test/fixtures/salt-seed) as a Salt user has it, the
// host read from a salt-ssh roster. `orch apply test=True` reports what would change and writes nothing; `orch apply`
// converges the package, directory and .pgpass states and runs the script fetched from salt:// through cmd.script,
// which fails on Linux by its own FreeBSD-only `stat -f`: orch reports that as the script's failure, with its output.
// A second apply finds the states it converged clean.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labUp, projectLabFiles } from '../../src/lab/index.js';
import { REPO_ROOT, parseJson, runOrch } from '../helpers/cli.js';
import { downIfUp, sh, type ApplyReport } from '../helpers/formula-lab.js';

const HOST = 'saltseed.example.com';

describe('a Salt tree on a lab host (seed 003)', function () {
  this.timeout(300_000);
  let root: string;

  const apply = async (...args: string[]) => {
    const r = await runOrch([
      '--root',
      root,
      '-i',
      path.join(root, 'roster'),
      '-o',
      'json',
      'apply',
      '*',
      ...args,
    ]);
    const report = parseJson<ApplyReport>(r);
    const states = Object.fromEntries(report.hosts[0]!.states.map((s) => [`${s.fn} ${s.id}`, s]));
    return { code: r.code, states, stderr: r.stderr };
  };

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-salt-seed-'));
    cpSync(path.join(REPO_ROOT, 'test/fixtures/salt-seed'), root, { recursive: true });
    const project = loadProject({ root });
    await downIfUp([HOST], root);
    const [host] = await labUp([HOST], { project });
    writeFileSync(
      path.join(root, 'roster'),
      `${HOST}:\n  host: ${host!.ip}\n  user: root\n  priv: ${projectLabFiles(project).key}\n`,
    );
  });

  after(async () => {
    await downIfUp([HOST], root);
    rmSync(root, { recursive: true, force: true });
  });

  it('test=True: the changes it would make, and nothing written', async () => {
    const r = await apply('test=True');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.states['pkg.installed postgresql-client-15']?.status, 'clean');
    assert.equal(r.states['file.directory /home/postgres']?.status, 'would_change');
    assert.equal(r.states['file.managed /root/.pgpass']?.status, 'would_change');
    assert.match(r.states['cmd.script pg_make_replica']!.comment, /would run script/);
    assert.equal(await sh(HOST, 'test -e /root/.pgpass && echo yes || echo no'), 'no');
  });

  it('apply: converges the packages, directory and .pgpass; the script fails by its own stat -f, with its output', async () => {
    const r = await apply();
    assert.equal(r.code, 1, r.stderr);
    for (const id of ['pkg.installed postgresql-client-15', 'pkg.installed postgresql-15'])
      assert.equal(r.states[id]?.result, true, id);
    assert.equal(r.states['file.directory /home/postgres']?.changed, true);
    assert.equal(r.states['file.managed /root/.pgpass']?.changed, true);
    const script = r.states['cmd.script pg_make_replica']!;
    assert.equal(script.result, false);
    assert.match(script.comment, /\/root\/\.pgpass must be owned by postgres to enable replication/);
    assert.equal(
      await sh(HOST, 'stat -c "%U %G %a" /root/.pgpass /home/postgres'),
      'postgres postgres 600\npostgres postgres 750',
    );
    assert.equal(await sh(HOST, 'cat /root/.pgpass'), '*:*:*:replica:secret');

    const again = await apply();
    assert.equal(again.code, 1, again.stderr);
    for (const id of ['file.directory /home/postgres', 'file.managed /root/.pgpass'])
      assert.equal(again.states[id]?.status, 'clean', id);
  });
});
