// `orch pg status` and the copies a replica rebuild left: the read-only script run by the local shell over a
// state directory laid out as pg_make_replica writes it, then parsed into copies, sizes and pending records.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leftoverScript, leftoverWarnings, parseLeftovers } from '../../../src/pg/rebuild-leftovers.js';

describe('orch pg status: copies left by replica rebuilds', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-leftovers-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('lists old and failed copies with their size, and an interrupted rebuild, per recorded data directory', () => {
    const sd = path.join(tmp, 'state');
    const data = path.join(tmp, 'pg data', 'main');
    mkdirSync(sd, { recursive: true });
    mkdirSync(data, { recursive: true });
    mkdirSync(`${data}.orch-old-20261130101010`);
    writeFileSync(path.join(`${data}.orch-old-20261130101010`, 'base'), Buffer.alloc(3 * 1048576, 1));
    mkdirSync(`${data}.orch-failed-20261201101010`);
    writeFileSync(path.join(sd, '123.dir'), `${data}\n`);
    writeFileSync(path.join(sd, '123.state'), `data_dir=${data}\nstep=basebackup\nts=20261201101010\n`);
    // A record naming a relative path is not followed.
    writeFileSync(path.join(sd, '456.dir'), 'relative/path\n');
    const r = spawnSync('/bin/sh', ['-s'], {
      input: leftoverScript([sd, path.join(tmp, 'absent')]),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const found = parseLeftovers(r.stdout);
    assert.equal(found.copies.length, 2, r.stdout);
    const old = found.copies.find((c) => c.kind === 'old')!;
    assert.equal(old.path, `${data}.orch-old-20261130101010`);
    assert.equal(old.dataDir, data);
    assert.ok(old.bytes! >= 3 * 1048576, String(old.bytes));
    assert.equal(found.copies.find((c) => c.kind === 'failed')!.path, `${data}.orch-failed-20261201101010`);
    assert.deepEqual(found.pending, [{ dataDir: data, step: 'basebackup', startedAt: '20261201101010' }]);
    const w = leftoverWarnings('db2', found);
    assert.match(w[0]!, /^db2: old data directory .*orch-old-20261130101010 \(3 MB\) left by a rebuild of /);
    assert.match(w[2]!, /^db2: a rebuild of .* started 20261201101010 was interrupted at step 'basebackup'/);
  });

  it('a host without records reports nothing', () => {
    const r = spawnSync('/bin/sh', ['-s'], {
      input: leftoverScript([path.join(tmp, 'none')]),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0);
    assert.deepEqual(parseLeftovers(r.stdout), { copies: [], pending: [] });
  });
});
