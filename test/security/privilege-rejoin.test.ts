// orch pg rejoin works inside the node's data directory, which the postgres account owns (and so does its parent):
// the rewind step saves the node's own configuration files, runs pg_rewind as postgres, and puts them back. A
// postgres process that swaps the data directory for a symlink to a root-owned directory while pg_rewind runs
// (here pg_rewind itself does it, so the swap lands every time) must not make root remove or write files there.
// The state probe's pg_controldata runs as postgres too: it reads a file postgres could point anywhere.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PgNode } from '../../src/pg/lifecycle/node.js';
import { parseProbe, PROBE } from '../../src/pg/lifecycle/probe.js';
import { prelude } from '../../src/pg/lifecycle/remote.js';
import { rewindScript } from '../../src/pg/lifecycle/rewind.js';
import { isRoot, openTempDir, pgAccount, pgDir, snapshot } from './privilege-helpers.js';

const SHELLS = ['dash', 'bash', 'busybox sh'];

describe('security: pg rejoin acts as postgres in the data directory', () => {
  if (!isRoot) {
    it.skip('needs root and the postgres account');
    return;
  }
  let root: string;
  let data: string;
  let bin: string;
  let decoy: string;
  const pg = pgAccount();

  beforeEach(() => {
    root = openTempDir('orch-rejoin-sec-');
    bin = path.join(root, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    // Debian's layout: /var/lib/postgresql/15/main, every level owned by postgres.
    data = pgDir(pgDir(root, 'var-lib-postgresql/15'), 'main', 0o700);
    for (const [f, text] of [
      ['postgresql.auto.conf', "primary_conninfo = 'own'\n"],
      ['pg_hba.conf', 'local all all peer\n'],
    ] as const) {
      writeFileSync(path.join(data, f), text, { mode: 0o600 });
      spawnSync('chown', [`${pg.uid}:${pg.gid}`, path.join(data, f)]);
    }
    // A root-owned directory holding files with the names the rewind step restores or removes.
    decoy = path.join(root, 'etc-root');
    mkdirSync(path.join(decoy, 'conf.d'), { recursive: true, mode: 0o755 });
    chmodSync(decoy, 0o755);
    for (const f of ['pg_hba.conf', 'postgresql.conf', 'postgresql.auto.conf', 'pg_ident.conf'])
      writeFileSync(path.join(decoy, f), `root's ${f}\n`, { mode: 0o600 });
    writeFileSync(path.join(decoy, 'conf.d', 'root.conf'), "root's include\n", { mode: 0o600 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const node = (): PgNode =>
    ({ binDir: bin, dataDir: data, pgUser: 'postgres', socketDir: root, port: 5432 }) as PgNode;

  function tool(name: string, body: string): void {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    chmodSync(path.join(bin, name), 0o755);
  }

  for (const shell of SHELLS) {
    it(`${shell}: a data directory swapped for a symlink during pg_rewind changes nothing outside it`, () => {
      // pg_rewind runs as postgres, which owns the parent: it moves the data directory aside and links the name
      // to the root-owned directory, then "succeeds".
      tool(
        'pg_rewind',
        `for a do case $a in --target-pgdata=*) d=\${a#--target-pgdata=} ;; esac; done
id -un > "$d/../rewind-user" 2>/dev/null || :
mv -- "$d" "$d.moved" && ln -s ${JSON.stringify(decoy)} "$d"
exit 0`,
      );
      const before = snapshot([decoy]);
      const [cmd, ...args] = shell.split(' ');
      const r = spawnSync(
        cmd!,
        [...args, '-c', prelude(node()) + rewindScript('host=db1 user=replicator dbname=postgres', false)],
        { encoding: 'utf8', env: { PATH: process.env.PATH } },
      );
      assert.equal(readFileSync(path.join(path.dirname(data), 'rewind-user'), 'utf8').trim(), 'postgres');
      assert.ok(lstatSync(data).isSymbolicLink(), 'the attack took place');
      assert.deepEqual(
        snapshot([decoy]),
        before,
        `root acted through the swapped link:\n${r.stdout}${r.stderr}`,
      );
      // It cannot put the node's files back through the link: the step fails, so rejoin stops there.
      assert.notEqual(r.status, 0, r.stdout + r.stderr);
    });
  }

  it("the state probe's pg_controldata runs as postgres", () => {
    tool('pg_controldata', 'echo "Database cluster state:               as $(id -un)"');
    tool('pg_ctl', 'exit 3');
    const r = spawnSync('/bin/sh', ['-c', prelude(node()) + PROBE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(parseProbe('h', r.stdout).control.state, 'as postgres');
  });
});
