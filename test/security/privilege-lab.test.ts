// The formula's whole first converge (`orch apply '*'` over SSH on lab hosts: config states on both hosts, then the
// replica built by pg_make_replica) while a process running as `postgres` inside each host keeps swapping what orch
// writes in postgres-owned directories for symlinks to root-owned decoys: temp files in the
// config, conf.d, home and data directories, and the data directory itself once the old one is set aside. Whatever
// the run's outcome, no decoy changes owner, mode or content; with the attacker gone, the next apply converges and
// the replica streams.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { execInHost, labUp } from '../../src/lab/index.js';
import { shQuote } from '../../src/shell/quote.js';
import { REPO_ROOT, parseJson, runOrch, type CliResult } from '../helpers/cli.js';
import {
  DEMO_IDENTITY as IDENTITY,
  downIfUp,
  notClean,
  psql,
  sh,
  waitUntil,
  type ApplyReport,
} from '../helpers/formula-lab.js';
import { PROWLER } from './privilege-helpers.js';

const PRIMARY = 'primary.example.com';
const REPLICA = 'replica.example.com';
const HOSTS = [PRIMARY, REPLICA];
const DECOYS = '/var/lib/orch-decoys';
const STOP = '/run/orch-prowl-stop';
// orch's temp files: atomic writes' and pg_make_replica's. (Swapping the live config files themselves is covered by
// privilege-states and privilege-replica; here it would only destroy the attacker's own cluster.)
const WRITES = /^\.orch\.|\.orch-new|\.orch-tmp/;

/** Root-owned decoys inside the host, outside every managed path; their sha256, owner and mode. */
async function makeDecoys(host: string): Promise<string> {
  await sh(
    host,
    `rm -rf ${DECOYS} && mkdir -m 755 ${DECOYS} ${DECOYS}/root-dir && umask 077 && echo secret > ${DECOYS}/root-only` +
      ` && echo inside > ${DECOYS}/root-dir/inside && umask 022 && echo config > ${DECOYS}/root-readable`,
  );
  return decoySnapshot(host);
}
const decoySnapshot = (host: string): Promise<string> =>
  sh(
    host,
    `cd ${DECOYS} && find . -exec stat -c '%n %F %u:%g %a' {} + | sort && find . -type f -exec sha256sum {} + | sort`,
  );

describe('security: a converge over SSH under a symlink-swapping postgres process (lab hosts)', function () {
  this.timeout(900_000);
  let root: string;
  const orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', root, ...args], { env: { ORCH_AGE_IDENTITY: IDENTITY } });

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-privilege-lab-'));
    for (const dir of ['states', 'templates', 'pillar', 'inventory']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await downIfUp(HOSTS, root);
    await labUp(HOSTS, { project: loadProject({ root }) });
  });
  after(async () => {
    await downIfUp(HOSTS, root);
    rmSync(root, { recursive: true, force: true });
  });

  it('no decoy changes on either host; without the attacker the next apply converges and streams', async () => {
    const before = Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await makeDecoys(h)])));
    const links = [`${DECOYS}/root-only`, `${DECOYS}/root-readable`, `${DECOYS}/root-dir`].join('\n');
    const dirs = [
      '/etc/postgresql/15/main',
      '/etc/postgresql/15/main/conf.d',
      '/var/lib/postgresql',
      '/var/lib/postgresql/15',
      '/var/lib/postgresql/15/main',
    ];
    await Promise.all(HOSTS.map((h) => sh(h, `rm -f ${STOP}`)));
    // Files first; the data directory itself once pg_make_replica has moved the old one aside.
    const attack = (host: string, pattern: RegExp, requires: string, targets: string, watch: string[]) =>
      execInHost(
        host,
        [
          'runuser',
          '-u',
          'postgres',
          '--',
          process.execPath,
          '-e',
          PROWLER,
          'attacker',
          STOP,
          '300000',
        ].concat([pattern.source, requires, targets, ...watch]),
        { timeoutMs: 320_000 },
      );
    const attackers = [
      ...HOSTS.map((h) => attack(h, WRITES, '', links, dirs)),
      attack(REPLICA, /^main$/, '\\.orch-old-', [`${DECOYS}/root-dir`, DECOYS].join('\n'), [
        '/var/lib/postgresql/15',
      ]),
    ];
    await new Promise((r) => setTimeout(r, 500));
    const attacked = await orch('-o', 'json', 'apply', '*');
    await Promise.all(HOSTS.map((h) => sh(h, `touch ${STOP}`)));
    const counts = (await Promise.all(attackers)).map(
      (r) => JSON.parse(r.stdout || '{"attempts":0,"hits":0}') as { attempts: number; hits: number },
    );
    const hits = counts.reduce((n, c) => n + c.hits, 0);
    const attempts = counts.reduce((n, c) => n + c.attempts, 0);
    console.log(
      `      ${hits} swaps as postgres (${attempts} attempts); attacked apply exit ${attacked.code}`,
    );
    assert.ok(attempts > 0, 'the attackers looked at what orch wrote');
    assert.ok(attacked.code === 0 || attacked.code === 1, `${attacked.stdout}\n${attacked.stderr}`);
    for (const h of HOSTS) assert.equal(await decoySnapshot(h), before[h], `${h}: a decoy changed`);

    // The attacker's links are its own files in its own directories: an admin removes them and puts back what it
    // renamed aside (PROWLER keeps the original as <name>.gone<n>), then converges.
    const tidy =
      `for d in ${dirs.map(shQuote).join(' ')}; do find "$d" -maxdepth 1 -type l -user postgres -delete; ` +
      `for f in "$d"/*.gone* "$d"/.*.gone*; do [ -e "$f" ] || continue; b="\${f%.gone*}"; ` +
      `if [ -e "$b" ]; then rm -rf -- "$f"; else mv -- "$f" "$b"; fi; done; done 2>/dev/null; true`;
    console.log(`      refused under attack: ${notClean(parseJson<ApplyReport>(attacked)).length} state(s)`);
    for (const h of HOSTS) await sh(h, tidy);
    let converged: CliResult | undefined;
    for (let i = 0; i < 2; i++) {
      converged = await orch('-o', 'json', 'apply', '*');
      if (converged.code === 0) break;
    }
    assert.equal(converged!.code, 0, `${converged!.stdout}\n${converged!.stderr}`);
    const again = await orch('-o', 'json', 'apply', '*');
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.deepEqual(notClean(parseJson<ApplyReport>(again)), []);
    await psql(PRIMARY, 'CREATE TABLE IF NOT EXISTS attacked (v text); INSERT INTO attacked VALUES (1)');
    assert.equal(await waitUntil('1', () => psql(REPLICA, 'SELECT count(*) FROM attacked')), '1');
    for (const h of HOSTS) assert.equal(await decoySnapshot(h), before[h], `${h}: a decoy changed`);
  });
});
