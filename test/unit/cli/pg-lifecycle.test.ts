// The lifecycle verbs through the built CLI, without hosts: --help documents the steps, --async and the exit codes,
// a bad standby is bad input (exit 4) with the JSON error shape under -o json, before any host is contacted, and
// --async queues a job of the verb's kind with its stored arguments and the cluster's hosts to lock; --on-event gets
// a refused rejoin (its nodes refuse connections) as JSON on stdin, in an environment without orch's secrets, and
// its output stays off orch's stdout (the -o json report still parses).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../../helpers/cli.js';
import { formulaProjectDir, writeFormulaHosts } from '../../helpers/formula-lab.js';

describe('orch pg switchover / follow / promote / rejoin: help, bad input, --async', function () {
  this.timeout(60_000);
  let root: string;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-pg-life-cli-'));
    mkdirSync(path.join(root, 'inventory'));
    writeFileSync(path.join(root, 'inventory/hosts.yaml'), 'hosts:\n  db1:\n    address: 127.0.0.1\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const verb of ['switchover', 'follow', 'promote', 'rejoin']) {
    it(`pg ${verb} --help names its steps, --test and the exit codes`, async () => {
      const r = await runOrch(['pg', verb, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /--test/);
      assert.match(r.stdout, /Exit codes: 0 done .* 7 refused/s);
      assert.match(r.stdout, /orch jobs lookup <jid>/);
      assert.match(r.stdout, /--async/);
      assert.match(r.stdout, /With --async: 0 once queued/);
    });
  }

  it('--async queues a job of the verb with its stored arguments and the cluster to lock; nothing is contacted', async () => {
    const proj = formulaProjectDir('orch-pg-life-async-');
    try {
      // Addresses nobody answers on: queueing must not connect.
      writeFormulaHosts(proj, { name: 'p.example.com', ip: '192.0.2.10' }, [
        { name: 'a.example.com', ip: '192.0.2.11' },
      ]);
      writeFileSync(path.join(proj, 'orch.yaml'), 'jobs:\n  spawn_worker: false\n');
      const q = await runOrch([
        '--root',
        proj,
        '-o',
        'json',
        'pg',
        'rejoin',
        'p.example.com',
        '--rebuild-if-needed',
        '--async',
      ]);
      assert.equal(q.code, 0, q.stdout + q.stderr);
      const { jid } = parseJson<{ jid: string }>(q);
      const l = await runOrch(['--root', proj, '-o', 'json', 'jobs', 'lookup', jid]);
      assert.equal(l.code, 0, l.stderr);
      const job = parseJson<{ verb: string; status: string; target: string; args: Record<string, unknown> }>(
        l,
      );
      assert.equal(job.verb, 'pg rejoin');
      assert.equal(job.status, 'queued');
      assert.equal(job.target, 'p.example.com');
      assert.deepEqual(
        [job.args.host, job.args.test, job.args.wait, job.args.rebuildIfNeeded, job.args.cluster],
        ['p.example.com', false, 60, true, ['p.example.com', 'a.example.com']],
      );
      const f = await runOrch(['--root', proj, 'pg', 'follow', '--async']);
      assert.equal(f.code, 4, 'follow without a standby or --cluster-host is bad input');
    } finally {
      rmSync(proj, { recursive: true, force: true });
    }
  });

  it('--on-event gets a refused rejoin as JSON on stdin, with a scrubbed environment, off the report', async () => {
    const proj = formulaProjectDir('orch-pg-life-event-');
    try {
      writeFormulaHosts(proj, { name: 'p.example.com', ip: '127.0.0.1' }, [
        { name: 'a.example.com', ip: '127.0.0.1' },
      ]);
      // Port 1: every connection is refused at once, so the verb refuses without touching anything.
      const inv = path.join(proj, 'inventory/hosts.yaml');
      writeFileSync(inv, readFileSync(inv, 'utf8').replace('port: 22', 'port: 1'));
      const ev = path.join(proj, 'event.json');
      const env = path.join(proj, 'env.txt');
      const r = await runOrch(
        [
          '--root',
          proj,
          '-o',
          'json',
          'pg',
          'rejoin',
          'p.example.com',
          '--on-event',
          `cat > '${ev}'; env > '${env}'; echo hook-says-hi`,
        ],
        {
          env: {
            ORCH_AGE_IDENTITY: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
          },
        },
      );
      assert.equal(r.code, 7, r.stdout + r.stderr);
      const report = parseJson<{ jid: string; state: string }>(r);
      assert.equal(report.state, 'unchanged');
      assert.doesNotMatch(r.stdout, /hook-says-hi/);
      assert.match(r.stderr, /hook-says-hi/);
      const event = JSON.parse(readFileSync(ev, 'utf8')) as Record<string, unknown>;
      assert.equal(event.event, 'rejoin');
      assert.equal(event.jid, report.jid);
      assert.equal(event.ok, false);
      assert.equal(event.exit_code, 7);
      assert.equal(event.state, 'unchanged');
      assert.match(String(event.message), /p\.example\.com is unreachable/);
      const seen = readFileSync(env, 'utf8');
      assert.match(seen, /^ORCH_EVENT=rejoin$/m);
      assert.match(seen, new RegExp(`^ORCH_EVENT_JID=${report.jid}$`, 'm'));
      assert.doesNotMatch(seen, /AGE-SECRET-KEY|ORCH_AGE_IDENTITY/);
      const noTest = await runOrch([
        '--root',
        proj,
        'pg',
        'rejoin',
        'p.example.com',
        '--test',
        '--on-event',
        `touch '${ev}.test'`,
      ]);
      assert.equal(noTest.code, 7);
      assert.throws(() => readFileSync(`${ev}.test`), 'no event for a --test run');
    } finally {
      rmSync(proj, { recursive: true, force: true });
    }
  });

  it('an unknown standby is bad input: exit 4, JSON errors with -o json', async () => {
    const r = await runOrch(['--root', root, '-o', 'json', 'pg', 'switchover', 'nosuch']);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const j = parseJson<{ errors: { code: string; message: string }[] }>(r);
    assert.equal(j.errors[0]!.code, 'UNKNOWN_TARGET');
    const h = await runOrch(['--root', root, 'pg', 'switchover', 'db1']);
    assert.equal(h.code, 4, 'a host without postgres pillar');
    assert.match(h.stderr, /db1 has no postgres pillar/);
  });
});
