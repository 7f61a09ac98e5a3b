// Job kinds through the detached worker, for real over a loopback sshd: `orch drift --async` is queued, run by the
// worker through the drift kind, and read back like a synchronous drift (jobs wait gives its exit code, jobs list
// says drifted, jobs lookup and drift show print its report); a queued job whose stored arguments were tampered
// with fails with a message instead of running.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LocalSshd } from '../helpers/local-sshd.js';
import { lookup, loopbackSuite, orch, writeProject } from './harness.js';

describe('chaos: job kinds run by the detached worker', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let tmp = '';
  loopbackSuite('orch-chaos-kinds-', (s, t) => {
    sshd = s;
    tmp = t;
  });

  it('orch drift --async: queued, run by the worker, shown as drifted with its report', async () => {
    const root = path.join(tmp, 'drift');
    const target = path.join(tmp, 'drift-target');
    mkdirSync(target);
    writeProject(
      root,
      sshd!,
      { site: `motd:\n  file.managed:\n    - name: ${target}/motd\n    - contents: "hello\\n"\n` },
      { '*': ['site'] },
    );
    const q = await orch(root, ['-o', 'json', 'drift', 'a.example.com', '--async']);
    assert.equal(q.code, 0, q.stderr);
    const { jid } = JSON.parse(q.stdout) as { jid: string };
    assert.match(q.stderr, /queued/);
    const w = await orch(root, ['jobs', 'wait', jid, '--timeout', '60']);
    assert.equal(w.code, 2, `drift exit code through jobs wait:\n${w.stdout}\n${w.stderr}`);
    const job = await lookup(root, jid);
    assert.equal(job.verb, 'drift');
    assert.equal(job.status, 'succeeded');
    assert.equal(job.hosts['a.example.com']?.status, 'drifted');
    const list = await orch(root, ['jobs', 'list', '--verb', 'drift']);
    assert.match(
      list.stdout,
      new RegExp(`${jid}\\s+drift\\s+a\\.example\\.com.*\\sdrifted\\s+1 host\\(s\\): 1 drifted`),
    );
    const text = await orch(root, ['jobs', 'lookup', jid]);
    assert.match(text.stdout, /DRIFTED\s+file\.managed motd/);
    const show = await orch(root, ['drift', 'show', jid]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /a\.example\.com\s+drifted \(1 state\)/);

    writeFileSync(path.join(target, 'motd'), 'hello\n');
    const q2 = await orch(root, ['drift', 'a.example.com', '--async']);
    const jid2 = q2.stdout.trim();
    assert.equal((await orch(root, ['jobs', 'wait', jid2, '--timeout', '60'])).code, 0);
    const list2 = await orch(root, ['jobs', 'list', '--verb', 'drift']);
    assert.match(list2.stdout, new RegExp(`${jid2}\\s.*\\sclean\\s+1 host\\(s\\): 1 clean`));
  });

  it('--async refuses --on-drift and --report-file (no terminal waits for the report)', async () => {
    const root = path.join(tmp, 'drift');
    const r = await orch(root, [
      'drift',
      'a.example.com',
      '--async',
      '--report-file',
      path.join(tmp, 'r.xml'),
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /--async cannot take --on-drift or --report-file/);
  });

  it('a queued job whose stored arguments do not fit its kind fails without touching a host', async () => {
    const root = path.join(tmp, 'tamper');
    const out = path.join(tmp, 'tamper-out');
    writeProject(root, sshd!, {}, {}, 'accept_new_hostkeys: true\njobs:\n  spawn_worker: false\n');
    const q = await orch(root, ['run', 'a.example.com', '--async', '--', 'touch', `${out}`]);
    assert.equal(q.code, 0, q.stderr);
    const jid = q.stdout.trim();
    // Another writer of the store (or an older orch) left a command that is not a list of words.
    const db = new Database(path.join(root, '.orch', 'jobs.sqlite'));
    try {
      db.prepare(`UPDATE jobs SET args = json_set(args, '$.command', ?) WHERE jid = ?`).run(
        `touch ${out}`,
        jid,
      );
    } finally {
      db.close();
    }
    const w = await orch(root, ['worker', '--drain']);
    assert.equal(w.code, 0, w.stderr);
    const job = await lookup(root, jid);
    assert.equal(job.status, 'failed');
    assert.equal(job.exitCode, 4);
    assert.match(
      String(job.summary?.error),
      /stored arguments of this run job do not fit its kind: args\.command/,
    );
    assert.deepEqual(job.hosts, {});
  });
});
