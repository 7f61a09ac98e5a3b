// What the lifecycle suites on lab hosts share: a cluster built by the repository's formula (a primary and its
// standbys, PostgreSQL 15 on light hosts or the release's own on booted ones, a `life` table), orch run against it,
// the byte-and-mtime snapshot of the data and config directories that `--test` must leave alone, the inodes a base
// backup would change, and "apply changes nothing, drift is clean".
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { loadProject } from '../../src/config/project.js';
import { labUp, parseSuite } from '../../src/lab/index.js';
import { parseJson, runOrch, type CliResult } from './cli.js';
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
  type FormulaHost,
} from './formula-lab.js';

/** The Debian cluster `main` of a major version: data and config directories. */
export const dataDir = (version: string): string => `/var/lib/postgresql/${version}/main`;
export const confDir = (version: string): string => `/etc/postgresql/${version}/main`;
export const DATA = dataDir('15');
export const CONF = confDir('15');

/** `orch pg <verb> -o json`. */
export interface LifecycleJson {
  jid: string;
  state: string;
  steps: { host: string; step: string; status: string; detail: string }[];
  exit_code: number;
}

/** Bytes and mtimes of every file of the data and config directories of a version's cluster. */
export const snapshotOf =
  (version: string) =>
  (h: string): Promise<string> => {
    const [d, c] = [dataDir(version), confDir(version)];
    return sh(
      h,
      `find ${d} ${c} -type f -printf '%p %s %T@\\n' | sort; find ${d} ${c} -type f -exec md5sum {} + | sort`,
    );
  };
export const snapshot = snapshotOf('15');

/** The lines of each host's snapshot that differ between two sets of snapshots (empty when nothing changed). */
export function snapshotChanges(hosts: readonly string[], before: string[], after: string[]): string[] {
  return hosts.flatMap((h, i) => {
    const was = new Set(before[i]!.split('\n'));
    const now = new Set(after[i]!.split('\n'));
    return [
      ...[...was].filter((l) => !now.has(l)).map((l) => `${h} - ${l}`),
      ...[...now].filter((l) => !was.has(l)).map((l) => `${h} + ${l}`),
    ];
  });
}

/**
 * Settle the cluster before a snapshot: a CHECKPOINT on the primary and restartpoints on the standbys write what
 * earlier reads left dirty; then wait until the primary's WAL has stopped moving for longer than the background
 * writer's standby-snapshot interval (15 s: it logs one running-transactions record after any other WAL) and every
 * standby has replayed it. From then on only a write by someone could change a file.
 */
export async function settle(primary: string, standbys: readonly string[]): Promise<void> {
  await psql(primary, 'CHECKPOINT');
  for (const s of standbys) await psql(s, 'CHECKPOINT');
  const lsn = () => psql(primary, 'SELECT pg_current_wal_insert_lsn()');
  let last = await lsn();
  for (let still = 0; still < 17;) {
    await new Promise((res) => setTimeout(res, 1000));
    const now = await lsn();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  for (const s of standbys)
    await waitUntil('t', () => psql(s, `SELECT pg_last_wal_replay_lsn() >= '${last}'::pg_lsn`), 120, 500);
}

/**
 * What a new data directory would change: the inodes of the data directory, PG_VERSION and base/ and any copy left
 * beside it (a base backup), and the system identifier in pg_control (a re-initdb; a base backup keeps the
 * primary's). Read with pg_controldata, so also when the server is down.
 */
export const inodesOf =
  (version: string) =>
  (h: string): Promise<string> => {
    const d = dataDir(version);
    return sh(
      h,
      `stat -c '%i' ${d} ${d}/PG_VERSION ${d}/base; ls -d ${d}.orch-* 2>/dev/null; ` +
        `/usr/lib/postgresql/${version}/bin/pg_controldata ${d} | grep '^Database system identifier'`,
    );
  };
export const inodes = inodesOf('15');

export const inRecovery = (h: string): Promise<string> => psql(h, 'SELECT pg_is_in_recovery()');
export const senderOf = (h: string): Promise<string> =>
  psql(h, 'SELECT sender_host FROM pg_stat_wal_receiver');
export const countOf = (h: string, note: string): Promise<string> =>
  psql(h, `SELECT count(*) FROM life WHERE note = '${note}'`);

/**
 * A formula-built cluster on fresh lab hosts: `primary` and `standbys`, with an empty `life` table. Light hosts
 * (PostgreSQL 15) unless `os` names a Debian suite: then booted hosts of that release, with its PostgreSQL.
 */
export class LifecycleLab {
  root = '';
  readonly version: string;
  constructor(
    readonly prefix: string,
    readonly primary: string,
    readonly standbys: readonly string[],
    readonly os?: string,
  ) {
    this.version = os === undefined ? '15' : String(parseSuite(os).postgresql);
  }

  get data(): string {
    return dataDir(this.version);
  }

  /** The data and config directories' snapshot, and the base-backup witness, for this lab's version. */
  snapshot = (h: string): Promise<string> => snapshotOf(this.version)(h);
  inodes = (h: string): Promise<string> => inodesOf(this.version)(h);

  get all(): string[] {
    return [this.primary, ...this.standbys];
  }

  orch = (...args: string[]): Promise<CliResult> =>
    runOrch(['--root', this.root, ...args], {
      env: { ORCH_AGE_IDENTITY: DEMO_IDENTITY },
      timeoutMs: 300_000,
    });

  async up(): Promise<void> {
    this.root = formulaProjectDir(this.prefix);
    await downIfUp(this.all, this.root);
    const project = loadProject({ root: this.root });
    const hosts = await labUp(this.all, { project, ...(this.os !== undefined ? { os: this.os } : {}) });
    const fh = (n: string): FormulaHost => ({ name: n, ip: hosts.find((h) => h.name === n)!.ip });
    writeFormulaHosts(this.root, fh(this.primary), this.standbys.map(fh));
    const r = await this.orch('apply', '*', '--accept-new-hostkeys', '--no-progress');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await psql(this.primary, 'CREATE TABLE life (id serial PRIMARY KEY, note text)');
  }

  async down(): Promise<void> {
    await downIfUp(this.all, this.root);
    rmSync(this.root, { recursive: true, force: true });
  }

  /** `orch apply '*'` changes nothing and reports every state clean; `orch drift '*'` exits 0. */
  async applyAndDriftClean(): Promise<void> {
    const a = await this.orch('-o', 'json', 'apply', '*');
    assert.equal(a.code, 0, a.stderr);
    const report = parseJson<ApplyReport>(a);
    assert.deepEqual(
      report.hosts.flatMap((h) =>
        h.states.filter((s) => s.status === 'changed').map((s) => `${h.host} ${s.id}`),
      ),
      [],
      'apply changed nothing',
    );
    assert.deepEqual(notClean(report), []);
    const d = await this.orch('drift', '*', '--no-progress');
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }

  /** Wait until each of `hosts` (default: all) has the row `note`. */
  async rowOn(note: string, hosts: readonly string[] = this.all): Promise<void> {
    for (const h of hosts) assert.equal(await waitUntil('1', () => countOf(h, note)), '1', `${note} on ${h}`);
  }
}
