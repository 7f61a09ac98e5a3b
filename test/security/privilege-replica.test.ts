// pg_make_replica on real PostgreSQL (a temp primary, a standby data directory in a postgres-owned directory) while
// processes running as postgres keep swapping what the build touches for symlinks to root-owned decoys: the config
// files and *.orch-tmp files in the data directory from the start, and the data directory itself once the old one
// has been renamed aside. Whatever the build's outcome, no decoy changes owner, mode or content.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PG_BIN, startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import {
  asPg,
  neverStartedCluster,
  pgCtl,
  renderReplicaScript,
  sampleInput,
  startReplicationPrimary,
} from '../unit/states/postgres/replica-helpers.js';
import {
  isRoot,
  makeDecoys,
  openTempDir,
  pgDir,
  prowl,
  snapshot,
  type Prowler,
} from './privilege-helpers.js';

describe('security: the replica build under a symlink-swapping postgres process', function () {
  this.timeout(300_000);
  if (!isRoot) {
    it.skip('needs root and the postgres account');
    return;
  }
  let primary: TempPostgres;
  let other: TempPostgres;
  let pgpass: string;
  let parent: string;
  let decoyRoot: string;

  before(async () => {
    ({ primary, pgpass } = await startReplicationPrimary());
    other = await startTempPostgres();
    parent = pgDir(other.dir, 'cluster parent');
    decoyRoot = openTempDir('orch-decoys-');
  });

  after(async () => {
    // Stop any server still running in a data directory the attackers may have renamed.
    for (const e of existsSync(parent) ? readdirSync(parent) : []) {
      const d = path.join(parent, e);
      if (existsSync(path.join(d, 'postmaster.pid')))
        asPg(pgCtl(d, '-m', 'immediate', '-w', 'stop').slice(4));
    }
    await other?.stop();
    await primary?.stop();
    rmSync(decoyRoot, { recursive: true, force: true });
  });

  let n = 0;
  async function attackedBuild(attack: (standby: string, decoys: string[]) => Prowler): Promise<void> {
    const standby = path.join(parent, `standby${++n}`);
    await neverStartedCluster(standby, other.socketDir);
    const decoys = makeDecoys(path.join(decoyRoot, String(n)));
    const before = snapshot(decoys);
    const text = renderReplicaScript(
      sampleInput({
        primaryHost: '127.0.0.1',
        primaryPort: primary.port,
        slot: `attacked_${n}`,
        dataDir: standby,
        binDir: PG_BIN,
        pgpass,
        serviceStart: pgCtl(standby, '-l', `${standby}.log`, '-w', '-t', '30', 'start'),
        serviceStop: pgCtl(standby, '-m', 'fast', '-w', '-t', '30', 'stop'),
        serviceStatus: pgCtl(standby, 'status'),
      }),
    );
    const attacker = attack(standby, decoys);
    await new Promise((r) => setTimeout(r, 400));
    const run = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 200_000 });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (status) => resolve({ status, out }));
      child.stdin.end(text);
    });
    const a = await attacker.stop();
    const outcome = /^(changed|failed|refused): .*$/m.exec(run.out)?.[0] ?? `exit ${run.status}`;
    console.log(`      ${a.hits} swaps as postgres (${a.attempts} attempts); build: ${outcome}`);
    assert.ok(a.hits > 0, 'the attacker got to swap something');
    assert.ok(run.status === 0 || run.status === 1, run.out);
    assert.deepEqual(snapshot(decoys), before);
  }

  it('swapping config files and *.orch-tmp in the data directory changes no decoy', async () => {
    await attackedBuild((standby, decoys) =>
      prowl(
        'attacker',
        'postgres',
        [standby],
        /\.orch-tmp$|^(postgresql|pg_hba|pg_ident|postgresql\.auto|recovery)\.conf$/,
        decoys,
        60_000,
      ),
    );
  });

  it('swapping the new data directory once the old one is aside changes no decoy', async () => {
    await attackedBuild((standby, decoys) =>
      prowl(
        'attacker',
        'postgres',
        [path.dirname(standby)],
        new RegExp(`^${path.basename(standby)}$`),
        [decoys[2]!, path.dirname(decoys[0]!)],
        60_000,
        /\.orch-old-/,
      ),
    );
  });
});
