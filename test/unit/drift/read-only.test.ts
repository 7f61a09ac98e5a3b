// Drift must only ever run the check path. This runs the real check scripts of every registered state kind (and the
// PostgreSQL drift probe) on the local /bin/sh, against files in a temp dir, and proves nothing was written: every
// file's bytes and mtime are the same afterwards, nothing was created or removed, and every call of a tool that can
// change a system (package, service, ownership, link, move tools) was a read-only query.
import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileHost } from '../../../src/engine/compile.js';
import { applyPhase, checkPhase, testResults } from '../../../src/engine/phases.js';
import { gatherFacts } from '../../../src/facts/gather.js';
import type { Facts } from '../../../src/facts/types.js';
import { createRenderEnv } from '../../../src/render/env.js';
import { stateNames } from '../../../src/states/registry.js';
import { shQuote } from '../../../src/shell/quote.js';
import { pgProbeScript } from '../../../src/drift/pg-probe.js';
import type { ExecOptions, ExecResult } from '../../../src/transport/types.js';
import { LocalConnection, testHost } from '../../helpers/local-connection.js';
import { hereDocText } from '../../helpers/print-content.js';

// Tools a check might reach that can change a system; each is replaced by a shell function that logs its call and
// does nothing (status 1: "not found / not active"). Functions win over PATH lookups. Names with a dash (apt-get)
// cannot be shell functions in dash: the script text is checked for those instead (MUTATING_TEXT).
const WATCHED = [
  'systemctl',
  'service',
  'sysrc',
  'pkg',
  'apt',
  'dpkg',
  'yum',
  'dnf',
  'rpm',
  'useradd',
  'usermod',
  'groupadd',
  'chown',
  'chmod',
  'chgrp',
  'ln',
  'mv',
  'touch',
  'install',
  'truncate',
  'tee',
  'dd',
  'pg_ctl',
  'pg_ctlcluster',
  'pg_basebackup',
  'initdb',
  'crontab',
  'mount',
  'kill',
  'pkill',
  'reboot',
  'shutdown',
];
// Calls that only read.
const READ_ONLY: RegExp[] = [
  /^systemctl (is-active|is-enabled|show|status|cat|list-unit-files|list-units)( |$)/,
  /^service \S+ (status|onestatus|enabled|rcvar)$/,
  /^service -e$/,
  /^sysrc (-n |-c |-e |-q )/,
  /^pkg (info|query|which)( |$)/,
  // pkg(7) -N: whether pkg(8) is installed, without bootstrapping it.
  /^pkg -N$/,
  /^dpkg (-s|-l|--status|--list|-S|--print-architecture)( |$)/,
  /^rpm -q/,
  // Private temp files from mktemp (the replica script logs its preflight there).
  /^tee (-a )?\/tmp\/tmp\.[A-Za-z0-9]+$/,
];

const MUTATING_TEXT =
  /\b(apt-get|apt|yum|dnf|pkg|rc-service|update-rc\.d)\s+(-\S+\s+)*(install|remove|purge|delete|upgrade|update|start|stop|restart|enable|disable)\b/;

class WatchedConnection extends LocalConnection {
  constructor(private readonly log: string) {
    super(testHost());
  }
  override runScript(script: string, opts: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    const fns = WATCHED.map(
      (t) => `${t}() { printf '%s\\n' "${t} $*" >> ${shQuote(this.log)}; return 1; }`,
    ).join('\n');
    return super.runScript(`${fns}\n${script}`, opts);
  }
}

interface Snap {
  [rel: string]: { bytes: string; mtimeMs: number; mode: number };
}

function snapshot(dir: string, base = dir, out: Snap = {}): Snap {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const st = statSync(full);
    const rel = path.relative(base, full);
    out[rel] = {
      bytes: st.isDirectory() ? '<dir>' : readFileSync(full).toString('hex'),
      mtimeMs: st.mtimeMs,
      mode: st.mode,
    };
    if (st.isDirectory()) snapshot(full, base, out);
  }
  return out;
}

/** Arguments per state kind, all pointing into the temp target dir; every registered kind must have some. */
function fixtures(t: string): Record<string, Record<string, unknown>[]> {
  return {
    'file.managed': [
      { name: `${t}/differs.conf`, contents: 'wanted\n', mode: '0600' },
      { name: `${t}/missing/new.conf`, contents: 'new\n', makedirs: true },
      { name: `${t}/templated.conf`, source: 'tpl.j2' },
    ],
    'file.directory': [
      { name: `${t}/newdir/sub`, makedirs: true, mode: '0700' },
      { name: `${t}/existing-dir`, mode: '0700' },
    ],
    'file.absent': [{ name: `${t}/present.txt` }, { name: `${t}/existing-dir` }],
    'file.line': [
      { name: `${t}/lines.conf`, line: 'added = 1' },
      { name: `${t}/lines.conf`, ensure: 'absent', match: '^old' },
      { name: `${t}/lines.conf`, line: 'port = 5433', match: '^port', after: 'first' },
    ],
    'pkg.installed': [{ name: 'orch-test-not-a-package' }],
    'pkg.removed': [{ name: 'coreutils' }],
    'service.running': [{ name: 'orch-test-svc', enable: true }],
    'service.dead': [{ name: 'orch-test-svc', enable: false }],
    'service.enabled': [{ name: 'orch-test-svc' }],
    'cmd.run': [
      { name: `touch ${t}/cmd-ran` },
      { name: `touch ${t}/cmd-ran-2`, unless: `test -e ${t}/nothing-here` },
      { name: `touch ${t}/cmd-ran-3`, creates: `${t}/nothing-here` },
    ],
    'cmd.script': [{ name: 'writer.sh' }],
    'postgres.role': [{ name: 'app', login: true, socket_dir: `${t}/pgsock`, port: 5999 }],
    'postgres.database': [{ name: 'appdb', owner: 'app', socket_dir: `${t}/pgsock`, port: 5999 }],
    'postgres.slot': [{ name: 'replica_1', socket_dir: `${t}/pgsock`, port: 5999 }],
    'postgres.orphan_slots': [{ keep: ['replica_1'], drop: true, socket_dir: `${t}/pgsock`, port: 5999 }],
    'postgres.rewind_grants': [{ role: 'replicator', socket_dir: `${t}/pgsock`, port: 5999 }],
    'postgres.restart_gate': [
      {
        standbys: { '127.0.0.1': 'replica_1' },
        replication_user: 'replicator',
        pgpass: `${t}/pgpass`,
        socket_dir: `${t}/pgsock`,
        port: 5999,
      },
    ],
    'postgres.replica': [
      {
        primary: '127.0.0.1',
        primary_port: 5999,
        replication_user: 'replicator',
        slot: 'replica_1',
        version: '15',
        pgpass: `${t}/pgpass`,
        data_dir: `${t}/pgdata`,
        bin_dir: `${t}/pgbin`,
        pg_user: 'postgres',
        script_path: `${t}/bin/pg_make_replica.sh`,
      },
    ],
    'postgres.conf': [
      {
        name: `${t}/pg/orch.conf`,
        settings: { wal_level: 'replica', max_wal_senders: 10 },
        socket_dir: `${t}/pgsock`,
        port: 5999,
      },
    ],
    'postgres.hba': [
      {
        name: `${t}/pg/pg_hba.conf`,
        entries: [
          {
            type: 'host',
            database: 'replication',
            user: 'replicator',
            address: '10.0.0.0/8',
            method: 'scram-sha-256',
          },
        ],
        socket_dir: `${t}/pgsock`,
        port: 5999,
      },
    ],
  };
}

async function checkAll(facts: Facts, root: string, target: string, log: string) {
  const all = fixtures(target);
  const names = stateNames();
  const missing = names.filter((n) => !all[n]);
  assert.deepEqual(missing, [], `state kinds without a read-only fixture here: ${missing.join(', ')}`);
  const docs: string[] = [];
  let n = 0;
  for (const fn of names) {
    for (const args of all[fn]!) {
      const lines = Object.entries(args).map(([k, v]) => `    - ${k}: ${JSON.stringify(v)}`);
      docs.push(`"s${n++} ${fn}":\n  ${fn}:\n${lines.join('\n')}\n`);
    }
  }
  writeFileSync(path.join(root, 'states', 'site.yaml'), docs.join(''));
  const compiled = compileHost({ root, env: createRenderEnv(root), host: testHost(), facts, pillar: {} });
  const conn = new WatchedConnection(log);
  const checks = await checkPhase(conn, compiled);
  return { results: testResults(compiled, checks), conn, kinds: names, compiled, checks };
}

describe('drift: check scripts are read-only', () => {
  let root: string;
  let target: string;
  let log: string;
  let realFacts: Facts;

  before(async () => {
    realFacts = await gatherFacts(new LocalConnection(testHost()));
  });

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-drift-ro-'));
    target = path.join(root, 'target');
    log = path.join(root, 'calls.log');
    for (const d of ['states', 'templates', 'target/existing-dir'])
      mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
    // The real templates of the repo (the replica formula's script among them).
    cpSync(path.resolve('templates'), path.join(root, 'templates'), { recursive: true });
    writeFileSync(path.join(root, 'templates', 'tpl.j2'), 'rendered {{ grains_missing | default("x") }}\n');
    writeFileSync(
      path.join(root, 'templates', 'writer.sh'),
      `#!/bin/sh\necho boom > ${shQuote(target)}/script-ran\n`,
    );
    writeFileSync(path.join(target, 'differs.conf'), 'actual\n', { mode: 0o644 });
    writeFileSync(path.join(target, 'templated.conf'), 'stale\n');
    writeFileSync(path.join(target, 'present.txt'), 'still here\n');
    writeFileSync(path.join(target, 'lines.conf'), 'first\nold = 1\nport = 5432\n');
    writeFileSync(path.join(target, 'existing-dir', 'keep'), 'x');
    // Old mtimes: a rewrite with the same bytes within the same second would still show.
    for (const f of [
      'differs.conf',
      'templated.conf',
      'present.txt',
      'lines.conf',
      'existing-dir/keep',
      'existing-dir',
    ]) {
      utimesSync(path.join(target, f), 1_000_000_000, 1_000_000_000);
    }
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const variants: [string, (f: Facts) => Facts][] = [
    ['this machine', (f) => f],
    [
      'a FreeBSD-like host (rc.d, pkg)',
      (f) => ({ ...f, osFamily: 'FreeBSD', init: 'rc.d', pkgTool: 'pkg' }) as Facts,
    ],
  ];
  for (const [label, facts] of variants) {
    it(`every state kind's check leaves files and system untouched (${label})`, async () => {
      const before = snapshot(target);
      const { results, conn, kinds } = await checkAll(facts(realFacts), root, target, log);
      const after = snapshot(target);
      assert.deepEqual(after, before, 'the check phase changed files');
      assert.ok(kinds.length >= 11, `expected the core state kinds, got ${kinds.join(', ')}`);
      // The checks really looked: the differing files are reported, not silently clean.
      const byId = new Map(results.map((r) => [r.id, r]));
      const drifted = results.filter((r) => r.status === 'would_change').map((r) => r.fn);
      for (const fn of ['file.managed', 'file.absent', 'file.line', 'cmd.run'])
        assert.ok(drifted.includes(fn), `${fn} should report drift`);
      assert.equal(byId.size, results.length);
      assert.equal(conn.stats().execs, 1, 'one exec for all checks');
      const calls = (() => {
        try {
          return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
        } catch {
          return [];
        }
      })();
      const writes = calls.filter((c) => !READ_ONLY.some((re) => re.test(c)));
      assert.deepEqual(writes, [], `checks called tools that can change the system: ${writes.join('; ')}`);
      assert.doesNotMatch(conn.scripts.join('\n'), MUTATING_TEXT);
    });
  }

  it('the harness sees writes: the apply phase of the same tree changes the snapshot and calls watched tools', async () => {
    const before = snapshot(target);
    const { compiled, checks, conn } = await checkAll(realFacts, root, target, log);
    await applyPhase(conn, compiled, checks);
    const after = snapshot(target);
    assert.notDeepEqual(after, before);
    assert.ok(after['cmd-ran'], 'cmd.run ran on apply');
    assert.ok(!after['present.txt'], 'file.absent removed its file on apply');
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(
      calls.some((c) => !READ_ONLY.some((re) => re.test(c))),
      `expected a mutating call among ${calls.join('; ')}`,
    );
  });

  it('the PostgreSQL drift probe runs only a SELECT and leaves files untouched', async () => {
    const before = snapshot(target);
    const script = pgProbeScript(
      { port: 5999, socketDir: `${target}/pgsock`, osUser: 'postgres', db: 'postgres' },
      'n0nce',
    );
    const sql = hereDocText(script);
    assert.match(sql, /SELECT jsonb_build_object/);
    assert.doesNotMatch(
      sql,
      /\b(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|SET|pg_drop|pg_create|pg_reload|pg_terminate|pg_promote|COPY|TRUNCATE)\b/i,
    );
    const res = await new WatchedConnection(log).runScript(script);
    // pg=down travels as plain kv text (kvt), a value with other bytes as hex (kv).
    assert.match(res.stdout, /@@ORCH:n0nce:kvt?:pg:/);
    assert.deepEqual(snapshot(target), before);
  });
});
