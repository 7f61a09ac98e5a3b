// Which account acts in a directory (orch_actor in the batch preamble), decided on real directories on this
// machine: root only where every directory on the way is root's and closed to others, the one other owner where
// that account can change what the path leads to, and a refusal naming the directory otherwise.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { preamble } from '../../src/shell/script.js';
import { isRoot, openTempDir, pgDir } from './privilege-helpers.js';

function actor(dir: string): { status: number | null; out: string } {
  const script = `${preamble('n0nce')}\nif orch_actor "$1"; then echo "actor=[$orch_as]"; else exit 7; fi\n`;
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', dir], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('security: who acts in a directory', () => {
  if (!isRoot) {
    it.skip('needs root (the decision only matters for root)');
    return;
  }
  let root: string;
  before(() => {
    root = openTempDir('orch-actor-');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('root-owned 0755 chain (through the sticky /tmp): root acts', () => {
    const d = path.join(root, 'etc', 'app');
    mkdirSync(d, { recursive: true, mode: 0o755 });
    assert.deepEqual(actor(d), { status: 0, out: 'actor=[]' });
    assert.deepEqual(
      actor(path.join(d, 'not', 'yet')),
      { status: 0, out: 'actor=[]' },
      'nearest existing ancestor',
    );
  });

  it('a chain through a postgres-owned directory: postgres acts', () => {
    const pg = pgDir(root, 'var-lib-postgresql');
    const conf = pgDir(pg, '15/main');
    assert.deepEqual(actor(conf), { status: 0, out: 'actor=[postgres]' });
    assert.deepEqual(actor(path.join(conf, 'conf.d-missing')), { status: 0, out: 'actor=[postgres]' });
  });

  it('a root-owned link to a postgres-owned directory: postgres acts', () => {
    const pg = pgDir(root, 'pg-target');
    symlinkSync(pg, path.join(root, 'link'));
    assert.deepEqual(actor(path.join(root, 'link')), { status: 0, out: 'actor=[postgres]' });
  });

  it('a root-owned directory under a postgres-owned one: refused (postgres can swap it, root may not act)', () => {
    const pg = pgDir(root, 'pg-above');
    const r = path.join(pg, 'root-below');
    mkdirSync(r, { mode: 0o755 });
    const out = actor(r);
    assert.equal(out.status, 7, out.out);
    assert.match(out.out, /root-below is not owned by postgres/);
  });

  it('a group-writable directory: refused, naming it', () => {
    const g = path.join(root, 'shared');
    mkdirSync(g);
    chmodSync(g, 0o775);
    const out = actor(path.join(g, 'sub'));
    assert.equal(out.status, 7, out.out);
    assert.match(out.out, new RegExp(`${g} is writable by group or others`));
  });

  it('two different owners on the way: refused', () => {
    const pg = pgDir(root, 'pg-two');
    const other = path.join(pg, 'nobody');
    mkdirSync(other, { mode: 0o755 });
    chownSync(other, 65534, 65534);
    const out = actor(other);
    assert.equal(out.status, 7, out.out);
    assert.match(out.out, /both postgres and nobody can change where it leads/);
  });

  it('the sticky /tmp itself cannot hold files root writes', () => {
    const out = actor('/tmp');
    assert.equal(out.status, 7, out.out);
    assert.match(out.out, /\/tmp is writable by group or others/);
  });
});
