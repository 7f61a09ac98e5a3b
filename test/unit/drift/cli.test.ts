// `orch drift` end to end over a real sshd on loopback, with a real PostgreSQL server for the replication checks:
// converge, then clean (exit 0); edit a managed file and create an unused slot (exit 2 naming exactly those, files
// byte-identical before and after); a closed port (exit 3); JUnit/Markdown report files, the --on-drift hook, the
// recorded job read back by `orch drift show` and `orch drift history`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DriftReport } from '../../../src/drift/types.js';
import { openSqliteStore } from '../../../src/jobs/sqlite-store.js';
import { canRunLocalSshd, freePort, startLocalSshd, type LocalSshd } from '../../helpers/local-sshd.js';
import { startTempPostgres, type TempPostgres } from '../../helpers/temp-postgres.js';

const repo = path.resolve(import.meta.dirname, '../../..');

describe('orch drift: end to end over a real sshd on loopback', function () {
  let sshd: LocalSshd | undefined;
  let server: TempPostgres | undefined;
  let project = '';
  let target = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    server = await startTempPostgres();
    project = mkdtempSync(path.join(tmpdir(), 'orch-drift-cli-'));
    target = path.join(project, 'target');
    for (const d of ['inventory', 'states', 'pillar', 'templates', 'target'])
      mkdirSync(path.join(project, d));
    const closed = await freePort();
    writeFileSync(
      path.join(project, 'inventory', 'hosts.yaml'),
      [
        'hosts:',
        '  here.example.com:',
        `    address: ${sshd.address}`,
        `    port: ${sshd.port}`,
        `    user: ${sshd.user}`,
        `    identity: ${sshd.clientKey}`,
        '  closed.example.com:',
        '    address: 127.0.0.1',
        `    port: ${closed}`,
        `    identity: ${sshd.clientKey}`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(project, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(
      path.join(project, 'states', 'site.yaml'),
      [
        'motd:',
        '  file.managed:',
        `    - name: ${target}/motd`,
        '    - contents: "hello\\n"',
        'app_conf:',
        '  file.managed:',
        `    - name: ${target}/app.conf`,
        '    - contents: "port = 5432\\n"',
        '    - mode: "0640"',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(project, 'pillar', 'top.yaml'), "'here.example.com': [postgres]\n");
    writeFileSync(
      path.join(project, 'pillar', 'postgres.yaml'),
      [
        'postgres:',
        '  primary: here.example.com',
        `  port: ${server.port}`,
        `  socket_dir: ${server.socketDir}`,
        '  paths:',
        '    os_user: postgres',
        '  drift:',
        '    max_lag_seconds: 60',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await sshd?.stop();
    await server?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  function orch(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync('npx', ['tsx', path.join(repo, 'src/cli/main.ts'), '-r', project, ...args], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  const snap = () =>
    ['motd', 'app.conf'].map((f) => {
      const p = path.join(target, f);
      return [readFileSync(p, 'utf8'), statSync(p).mtimeMs, statSync(p).mode];
    });

  it('after converging: clean, exit 0', () => {
    const a = orch('apply', 'here.example.com', '--accept-new-hostkeys', '--no-progress');
    assert.equal(a.code, 0, a.stdout + a.stderr);
    const r = orch('drift', 'here.example.com');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^here\.example\.com {2}clean \(2 states, postgres ok\)$/m);
  });

  it('an edited file and an unused slot: exit 2 naming exactly those; nothing written', async () => {
    writeFileSync(path.join(target, 'app.conf'), 'port = 6543\n');
    const client = new pg.Client({ connectionString: server!.url() });
    await client.connect();
    await client.query(`SELECT pg_create_physical_replication_slot('forgotten_replica')`);
    await client.end();
    const before = snap();
    const hookOut = path.join(project, 'hook.json');
    const r = orch(
      '-o',
      'json',
      'drift',
      'here.example.com',
      '--report-file',
      path.join(project, 'r.xml'),
      '--on-drift',
      `cat > '${hookOut}'`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(snap(), before, 'drift changed a file');
    const rep = JSON.parse(r.stdout) as DriftReport;
    const h = rep.hosts[0]!;
    assert.equal(h.status, 'drifted');
    assert.deepEqual(
      h.drifted.map((d) => d.id),
      ['app_conf'],
    );
    assert.match(h.drifted[0]!.diff!, /-port = 6543\n\+port = 5432/);
    assert.deepEqual(
      h.pg.filter((f) => f.severity === 'drift').map((f) => `${f.check}:${f.subject}`),
      ['slot:forgotten_replica'],
    );
    // The temp server leaves max_slot_wal_keep_size at -1: a warning, not drift.
    assert.deepEqual(
      h.pg.filter((f) => f.severity === 'warning').map((f) => f.message.slice(0, 30)),
      ['max_slot_wal_keep_size is -1: '],
    );
    assert.match(rep.jid!, /^\d{20}$/);
    const hook = JSON.parse(readFileSync(hookOut, 'utf8')) as DriftReport;
    assert.equal(hook.jid, rep.jid);
    const xml = readFileSync(path.join(project, 'r.xml'), 'utf8');
    assert.match(
      xml,
      /<testcase classname="here\.example\.com" name="file\.managed app_conf">\n {6}<failure /,
    );

    const store = await openSqliteStore(path.join(project, '.orch', 'jobs.sqlite'));
    const job = await store.get(rep.jid!);
    await store.close();
    assert.deepEqual([job?.verb, job?.status, job?.exitCode], ['drift', 'succeeded', 2]);
    assert.deepEqual(Object.keys(job!.hosts), ['here.example.com']);

    const shown = orch('-o', 'json', 'drift', 'show', rep.jid!);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual((JSON.parse(shown.stdout) as DriftReport).hosts, rep.hosts);
    const md = orch('drift', 'show', rep.jid!, '--format', 'markdown');
    assert.match(
      md.stdout,
      /^\| here\.example\.com \| drifted \(1 state\), postgres drift \(1\) \| 1 \| 0 \| 0 \| 2 finding\(s\) \|$/m,
    );
  });

  it('an unreachable host wins: exit 3; history shows when the host drifted', () => {
    const r = orch('drift', '*');
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /^closed\.example\.com {2}unreachable: /m);
    assert.match(r.stdout, /^here\.example\.com {4}drifted \(1 state\), postgres drift \(1\)$/m);
    const hist = orch('drift', 'history', '--host', 'here.example.com');
    assert.equal(hist.code, 0, hist.stderr);
    assert.match(hist.stdout, /^here\.example\.com: drifted since \S+ \(3 runs; last clean \S+\)$/m);
    assert.deepEqual(
      [...hist.stdout.matchAll(/^ {2}\S+ {2}(\w+)/gm)].map((m) => m[1]),
      ['clean', 'drifted'],
    );
  });

  it('bad input: exit 4', () => {
    assert.equal(orch('drift', 'nosuch.example.com').code, 4);
    assert.equal(orch('drift', 'here.example.com', '--format', 'yaml').code, 4);
  });
});
