// The timeout of a scheduled drift check, for real: `orch schedule drift --cron --timeout 3` writes its crontab
// line, and the line is run the way cron runs it (/bin/sh -c, \% turned back into %) while one host's sshd is
// stopped with SIGSTOP and orch.yaml gives handshakes 60 s. timeout(1) in the line sends SIGTERM at 3 s: orch
// records the job interrupted (143), no host called clean, says so in the schedule's log, and exits, so the hung
// night does not hold the next one. The next run, with sshd back, is clean.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { cli, cliEnv, ensureBuilt, hostStatuses, lookup, orch, sqliteJobs, writeProject } from './harness.js';

/** The pid listening on a loopback port (the sshd this test started there). */
function listenerPid(port: number): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`nothing listens on ${port}: ${out}`);
  return Number(m[1]);
}

/** Run what cron would run for a crontab line; resolves with the shell's exit code. */
function runAsCron(line: string, limitMs: number): Promise<number> {
  const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
  return new Promise((resolve) => {
    const sh = spawn('/bin/sh', ['-c', command], { env: cliEnv(), stdio: 'ignore' });
    const timer = setTimeout(() => sh.kill('SIGKILL'), limitMs);
    sh.on('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

describe('chaos: the timeout of a scheduled drift check', function () {
  this.timeout(180_000);
  let sshd: LocalSshd | undefined;
  let stopped: LocalSshd | undefined;
  let stoppedPid = 0;
  let tmp = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    try {
      execFileSync('sh', ['-c', 'command -v timeout'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    ensureBuilt();
    sshd = await startLocalSshd();
    stopped = await startLocalSshd();
    stoppedPid = listenerPid(stopped.port);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-chaos-sched-'));
  });
  after(async () => {
    if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
    await stopped?.stop();
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a hung run of the crontab line is stopped at its timeout; the job says interrupted', async () => {
    const root = path.join(tmp, 'p');
    const target = path.join(tmp, 'motd');
    writeProject(
      root,
      sshd!,
      { site: `motd:\n  file.managed:\n    - name: ${target}\n    - contents: "hello\\n"\n` },
      { 'a.example.com': ['site'], 'frozen.example.com': ['site'] },
      'accept_new_hostkeys: true\nconnect_timeout: 60\njobs:\n  lease: 3s\n',
      {
        'frozen.example.com': {
          address: stopped!.address,
          port: stopped!.port,
          identity: stopped!.clientKey,
        },
      },
    );
    const crontab = path.join(tmp, 'crontab');
    const made = await orch(root, [
      '-o',
      'json',
      'schedule',
      'drift',
      '--at',
      '03:00',
      'a.example.com,frozen.example.com',
      '--crontab-file',
      crontab,
      '--main',
      cli,
      '--timeout',
      '3',
    ]);
    assert.equal(made.code, 0, made.stderr);
    const line = (JSON.parse(made.stdout) as { line: string }).line;
    assert.equal(readFileSync(crontab, 'utf8'), `${line}\n`);
    assert.ok(line.includes('echo timeout -k 300 3)'), line);

    // Both hosts known first, so host keys are not the question; then the one sshd stops answering.
    const known = await orch(root, ['run', 'a.example.com,frozen.example.com', '--', 'true']);
    assert.equal(known.code, 0, `${known.stdout}\n${known.stderr}`);
    process.kill(stoppedPid, 'SIGSTOP');
    let code: number;
    try {
      code = await runAsCron(line, 120_000);
    } finally {
      process.kill(stoppedPid, 'SIGCONT');
    }
    assert.equal(code, 124, 'timeout(1) stopped the run (exit 124), not the 60 s handshake or the test');
    const log = readFileSync(path.join(root, '.orch', 'drift-schedule.log'), 'utf8');
    assert.match(log, /SIGTERM: stopping/);
    const job = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(job.verb, 'drift');
    assert.equal(job.status, 'interrupted');
    assert.equal(job.exitCode, 143);
    assert.equal(job.summary?.interrupted, 'SIGTERM');
    // Checks start once every host is connected: neither host was checked, and neither is called clean.
    for (const host of ['a.example.com', 'frozen.example.com']) {
      assert.notEqual(hostStatuses(job)[host], 'clean', JSON.stringify(job.hosts));
      assert.match(JSON.stringify(job.hosts[host]), /interrupted by SIGTERM/, host);
    }

    // The next night, with the host answering again: a whole run, recorded as such.
    execFileSync('sh', ['-c', `printf 'hello\\n' > '${target}'`]);
    assert.equal(await runAsCron(line, 120_000), 0);
    const next = await lookup(root, sqliteJobs(root)[0]!.jid);
    assert.equal(next.status, 'succeeded');
    assert.deepEqual(hostStatuses(next), { 'a.example.com': 'clean', 'frozen.example.com': 'clean' });
  });
});
