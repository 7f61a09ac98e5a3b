// orch pg rejoin's local parts: the rewind script keeps the node's own configuration files whatever pg_rewind
// copies over them (run for real with /bin/sh against a stand-in pg_rewind in a temp data directory), when rewind
// is impossible, pg_controldata's rewind fields, and the summary line of pg_rewind's output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { rebuildAdvice, rewindImpossible } from '../../../src/pg/lifecycle/rejoin.js';
import { parseProbe, type NodeState } from '../../../src/pg/lifecycle/probe.js';
import { prelude } from '../../../src/pg/lifecycle/remote.js';
import { rewindGrants, rewindScript, rewindSummary } from '../../../src/pg/lifecycle/rewind.js';
import type { PgNode } from '../../../src/pg/lifecycle/node.js';

describe('pg rejoin: rewind script, refusals, pg_control', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'orch-rejoin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Run the rewind script with a stand-in pg_rewind that records its argv and overwrites the config files. */
  function runScript(dry: boolean, rewindExit: number): { out: string; code: number } {
    const bin = path.join(dir, 'bin');
    const data = path.join(dir, 'data');
    mkdirSync(bin);
    mkdirSync(path.join(data, 'conf.d'), { recursive: true });
    writeFileSync(path.join(data, 'postgresql.auto.conf'), 'own auto\n');
    writeFileSync(path.join(data, 'pg_hba.conf'), 'own hba\n');
    writeFileSync(path.join(data, 'conf.d', 'orch.conf'), 'own include\n');
    writeFileSync(
      path.join(bin, 'pg_rewind'),
      `#!/bin/sh
printf '%s\\n' "$@" > ${JSON.stringify(path.join(dir, 'argv'))}
d=${JSON.stringify(data)}
echo "the primary's" > "$d/postgresql.auto.conf"; echo "the primary's" > "$d/pg_hba.conf"
echo "the primary's" > "$d/postgresql.conf"; rm -rf "$d/conf.d"; echo copied > "$d/base.file"
echo "pg_rewind: servers diverged at WAL location 0/3000060 on timeline 1" >&2
exit ${rewindExit}
`,
    );
    chmodSync(path.join(bin, 'pg_rewind'), 0o755);
    const node = { binDir: bin, dataDir: data, pgUser: userInfo().username, socketDir: dir, port: 5432 };
    const script = prelude(node as PgNode) + rewindScript("user=replicator host='a b' dbname=postgres", dry);
    try {
      return {
        out: execFileSync('/bin/sh', ['-c', script], {
          encoding: 'utf8',
          env: { ...process.env, TMPDIR: dir },
        }),
        code: 0,
      };
    } catch (err) {
      const e = err as { status: number; stdout: string };
      return { out: e.stdout, code: e.status };
    }
  }

  for (const [dry, exit] of [
    [false, 0],
    [true, 0],
    [false, 1],
  ] as const)
    it(`keeps the node's own config files (dry run ${dry}, pg_rewind exits ${exit})`, () => {
      const r = runScript(dry, exit);
      assert.equal(r.code, exit);
      const data = path.join(dir, 'data');
      assert.equal(readFileSync(path.join(data, 'postgresql.auto.conf'), 'utf8'), 'own auto\n');
      assert.equal(readFileSync(path.join(data, 'pg_hba.conf'), 'utf8'), 'own hba\n');
      assert.equal(readFileSync(path.join(data, 'conf.d', 'orch.conf'), 'utf8'), 'own include\n');
      assert.equal(
        existsSync(path.join(data, 'postgresql.conf')),
        false,
        'a file the node lacked is removed',
      );
      assert.equal(existsSync(path.join(data, 'base.file')), true, 'the data pg_rewind copied stays');
      const argv = readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n');
      assert.deepEqual(argv, [
        `--target-pgdata=${data}`,
        "--source-server=user=replicator host='a b' dbname=postgres",
        ...(dry ? ['--dry-run'] : []),
        '--progress',
      ]);
      assert.match(rewindSummary(r.out), /^servers diverged at WAL location 0\/3000060 on timeline 1$/);
      assert.equal(
        execFileSync('/bin/sh', ['-c', `ls -a ${JSON.stringify(dir)}`], { encoding: 'utf8' }).includes(
          'orch-rejoin.',
        ),
        false,
        'the saved copies are removed',
      );
    });

  it('reads wal_log_hints, checksums and the system id from pg_controldata', () => {
    const st = parseProbe(
      'db1',
      '@@running 0\n@@ctl Database system identifier:           7301234567890123456\n' +
        '@@ctl wal_log_hints setting:                on\n@@ctl Data page checksum version:           0\n',
    );
    assert.deepEqual(
      [st.control.systemId, st.control.walLogHints, st.control.checksumVersion],
      ['7301234567890123456', true, 0],
    );
  });

  it('refuses a rewind without wal_log_hints or checksums, of another system, or on 10', () => {
    const primary = { host: 'p', running: true, slots: [], control: {}, systemId: '1' } as NodeState;
    const target = (control: NodeState['control']): NodeState => ({
      host: 't',
      running: false,
      slots: [],
      control,
    });
    assert.equal(
      rewindImpossible(target({ systemId: '1', walLogHints: true, checksumVersion: 0 }), primary, 15),
      undefined,
    );
    assert.equal(
      rewindImpossible(target({ systemId: '1', walLogHints: false, checksumVersion: 1 }), primary, 15),
      undefined,
    );
    assert.match(
      rewindImpossible(target({ systemId: '1', walLogHints: false, checksumVersion: 0 }), primary, 15) ?? '',
      /neither wal_log_hints nor data checksums/,
    );
    assert.match(
      rewindImpossible(target({ systemId: '2', walLogHints: true }), primary, 15) ?? '',
      /another system/,
    );
    assert.match(rewindImpossible(target({ walLogHints: true }), primary, 10) ?? '', /PostgreSQL 11/);
    assert.equal(rebuildAdvice('h'), 'rebuild it instead: orch apply h --force-rebuild h');
  });

  it('grants the pg_rewind functions to a quoted role', () => {
    const g = rewindGrants('repl"x');
    assert.equal(g.length, 4);
    assert.ok(g.every((s) => s.endsWith(' TO "repl""x"')));
    assert.match(g[0]!, /pg_ls_dir\(text, boolean, boolean\)/);
  });

  it('summarises pg_rewind output', () => {
    assert.equal(
      rewindSummary(
        'pg_rewind: source and target cluster are on the same timeline\npg_rewind: no rewind required\n',
      ),
      'no rewind required',
    );
  });
});
