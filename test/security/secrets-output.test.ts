// Regression tests: a secret never reaches output. The engine runs for real on a local shell (the states' own
// scripts, the batch protocol); only the delivery of stdout is cut into small pieces, as SSH data chunks are.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatRunReport } from '../../src/cli/format/highstate.js';
import { runDriftHook } from '../../src/drift/on-drift.js';
import { compileHost } from '../../src/engine/compile.js';
import { applyPhase, checkPhase } from '../../src/engine/phases.js';
import type { RunReport } from '../../src/engine/run.js';
import { parseFacts } from '../../src/facts/parse.js';
import { openJobStoreAt } from '../../src/jobs/open.js';
import { createRenderEnv } from '../../src/render/env.js';
import { MASK, redactor } from '../../src/secrets/redactor.js';
import type { ExecOptions, ExecResult } from '../../src/transport/types.js';
import { LocalConnection, testHost } from '../helpers/local-connection.js';

const repo = path.resolve(import.meta.dirname, '../..');

/** A local connection whose stdout reaches the caller in pieces of `size` characters. */
class ChunkedConnection extends LocalConnection {
  constructor(private readonly size: number) {
    super(testHost());
  }
  override runScript(script: string, opts: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    const onStdout = opts.onStdout;
    return super.runScript(script, {
      ...opts,
      onStdout: onStdout
        ? (chunk) => {
            for (let i = 0; i < chunk.length; i += this.size) onStdout(chunk.slice(i, i + this.size));
          }
        : undefined,
    });
  }
}

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('security: secrets in state names, streamed lines, hooks and the job store', () => {
  let root: string;
  const facts = parseFacts('');
  // Unique per run so no other test's registration masks it by accident.
  const secret = `s3cr3t-${process.pid}-${Date.now().toString(36)}`;

  before(() => redactor.add(secret));
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-sec-out-'));
    mkdirSync(path.join(root, 'states'));
    mkdirSync(path.join(root, 'templates'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function compile(stateYaml: string) {
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(path.join(root, 'states', 'site.yaml'), stateYaml);
    return compileHost({ root, env: createRenderEnv(root), host: testHost(), facts, pillar: { pw: secret } });
  }

  async function applyStreamed(stateYaml: string, chunk: number) {
    const conn = new ChunkedConnection(chunk);
    const compiled = compile(stateYaml);
    const lines: string[] = [];
    const results = await applyPhase(conn, compiled, await checkPhase(conn, compiled), (l) => lines.push(l));
    return { results, lines };
  }

  it('a secret in a state name is masked in the results, the human header and the JSON', async () => {
    const { results } = await applyStreamed(
      'use_pw:\n  cmd.run:\n    - name: "test -n \'{{ pillar.pw }}\'"\n',
      1 << 16,
    );
    assert.equal(results[0]!.status, 'changed', JSON.stringify(results));
    assert.equal(results[0]!.name, `test -n '${MASK}'`);
    const report: RunReport = {
      mode: 'apply',
      hosts: [{ host: 'h', ok: true, states: results, stats: { connections: 1, execs: 2 }, ms: 1 }],
    };
    const human = formatRunReport(report, { verbose: true });
    assert.ok(human.includes(`(test -n '${MASK}')`), human);
    const json = JSON.stringify(report);
    assert.ok(!human.includes(secret) && !json.includes(secret), json);
  });

  it('a secret split across two stdout chunks is masked in the live lines', async () => {
    for (const size of [3, 7, 10]) {
      const { lines } = await applyStreamed(
        "show:\n  cmd.run:\n    - name: \"printf '%s\\\\n' '{{ pillar.pw }}'\"\n",
        size,
      );
      const all = lines.join('');
      assert.ok(lines.includes(MASK), `chunk ${size}: ${JSON.stringify(lines)}`);
      assert.ok(!all.includes(secret) && !all.includes(secret.slice(0, 8)), `chunk ${size}: ${all}`);
    }
  });

  it("orch's hex-encoded protocol lines are never streamed, whole or in pieces", async () => {
    // cmd.run reports `ran: <command>` through a hex kv line; the command holds the secret.
    const { lines, results } = await applyStreamed(
      'use_pw:\n  cmd.run:\n    - name: "test -n \'{{ pillar.pw }}\'"\n',
      5,
    );
    assert.equal(results[0]!.status, 'changed');
    const all = lines.join('');
    assert.ok(!all.includes(hex(secret)) && !all.includes(hex(secret).slice(0, 12)), all);
    assert.ok(!all.includes('@@ORCH') && !/[0-9a-f]{16}/.test(all), all);
  });

  it('a host that prints the secret hex-encoded is masked too', async () => {
    const { lines } = await applyStreamed(
      "show:\n  cmd.run:\n    - name: \"printf '%s' '{{ pillar.pw }}' | od -An -v -tx1 | tr -d ' \\\\n'; echo\"\n",
      1 << 16,
    );
    assert.ok(lines.includes(MASK), JSON.stringify(lines));
    assert.ok(!lines.join('\n').includes(hex(secret)));
  });

  it('an --on-drift hook gets a scrubbed environment and a masked report', async () => {
    const out = path.join(root, 'env.txt');
    const stdin = path.join(root, 'stdin.txt');
    const saved = { ...process.env };
    Object.assign(process.env, {
      ORCH_AGE_IDENTITY: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
      ORCH_AGE_IDENTITY_FILE: '/root/.config/orch/identity.txt',
      ORCH_JOB_STORE: 'postgres://orch:hunter22@db.example.com/orch',
      DATABASE_URL: 'postgresql://app:pw-in-url@db/app',
      PGPASSWORD: 'libpq-password',
      SOME_APP_VALUE: `x${secret}x`,
      KEEP_ME: 'plain',
    });
    try {
      const r = await runDriftHook(`env > '${out}'; cat > '${stdin}'`, JSON.stringify({ note: secret }), {
        ORCH_DRIFT_EXIT: '2',
      });
      assert.ok(r.ok, r.stderr);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const env = readFileSync(out, 'utf8');
    for (const bad of [
      'ORCH_AGE_IDENTITY',
      'ORCH_JOB_STORE',
      'hunter22',
      'pw-in-url',
      'libpq-password',
      secret,
    ])
      assert.ok(!env.includes(bad), `${bad} reached the hook:\n${env}`);
    assert.match(env, /^ORCH_DRIFT_EXIT=2$/m);
    assert.match(env, /^KEEP_ME=plain$/m);
    assert.match(env, /^PATH=/m);
    assert.equal(readFileSync(stdin, 'utf8'), JSON.stringify({ note: MASK }));
  });

  it('the job store is 0600 in a 0700 state dir, also when they existed with looser modes', async () => {
    const fresh = path.join(root, 'fresh', '.orch');
    const store = await openJobStoreAt(undefined, fresh);
    await store.create({ verb: 'run', target: '*', args: {}, user: 'u', status: 'running', worker: 'w' });
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    for (const f of ['jobs.sqlite', 'jobs.sqlite-wal', 'jobs.sqlite-shm'])
      assert.equal(statSync(path.join(fresh, f)).mode & 0o777, 0o600, f);
    await store.close();

    // Left by an older orch: 0755 directory, 0644 files.
    chmodSync(fresh, 0o755);
    for (const f of ['jobs.sqlite', 'jobs.sqlite-wal', 'jobs.sqlite-shm'])
      if (existsSync(path.join(fresh, f))) chmodSync(path.join(fresh, f), 0o644);
    const again = await openJobStoreAt(undefined, fresh);
    await again.create({ verb: 'run', target: '*', args: {}, user: 'u', status: 'running', worker: 'w' });
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    for (const f of ['jobs.sqlite', 'jobs.sqlite-wal', 'jobs.sqlite-shm'])
      assert.equal(statSync(path.join(fresh, f)).mode & 0o777, 0o600, f);
    await again.close();
  });

  it('a plain-text password in pillar gets one warning naming file, line and key', () => {
    for (const d of ['pillar', 'inventory']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(
      path.join(root, 'inventory', 'hosts.yaml'),
      'hosts:\n  db1.example.com:\n    address: 127.0.0.1\n    vars:\n      t: from-inventory\n',
    );
    writeFileSync(path.join(root, 'pillar', 'top.yaml'), "'*': [postgres]\n");
    writeFileSync(
      path.join(root, 'pillar', 'postgres.yaml'),
      'postgres:\n  port: 5432\n  replication:\n    user: replicator\n    Password: plain-text-pw\n  api_token: "{{ vars.t }}"\n',
    );
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '-r', root, 'pillar', 'show', 'db1.example.com', '--no-decrypt'],
      { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: root } },
    );
    assert.equal(r.status, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('plain-text'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /pillar\/postgres\.yaml:5: .*'postgres\.replication\.Password'/);
    assert.ok(!r.stderr.includes('plain-text-pw') && !r.stdout.includes('plain-text-pw'), r.stdout);
  });
});
