// `orch run` over a loopback sshd when its controller dies hard: kill -9 of the orch process while a long command
// runs (with and without become) leaves no command running on the host (the watchdog of transport/watchdog.ts
// sends its process group TERM once the connection's sshd process is gone; dash then dies of SIGPIPE as it
// reports the TERMed sleep on the closed stderr, an end all the same). And the watchdog changes nothing a normal
// run returns: exit codes, output without a trailing newline, words with quotes and spaces, --timeout.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LocalSshd } from '../helpers/local-sshd.js';
import { loopbackSuite, orch, start, until, untilRunning, writeProject } from './harness.js';

interface RunJson {
  hosts: { host: string; ok: boolean; exitCode: number | null; stdout: string; stderr: string }[];
}

describe('chaos: orch run when its controller dies', function () {
  this.timeout(180_000);
  let sshd: LocalSshd;
  let tmp = '';
  let n = 0;
  loopbackSuite(
    'orch-chaos-runwd-',
    (s, t) => {
      sshd = s;
      tmp = t;
    },
    { settleMs: 500 },
  );

  function project(): { root: string; out: string } {
    const root = path.join(tmp, `p${++n}`);
    const out = path.join(tmp, `out${n}`);
    writeProject(root, sshd, {}, {});
    return { root, out };
  }

  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** A command in bounded steps (at most 120 s) that writes its pid and nothing else (no write ends it early). */
  const longCommand = (out: string): string[] => [
    'sh',
    '-c',
    `mkdir -p ${out}; echo $$ > ${out}/$$.pid; ` +
      `i=0; while [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done; touch ${out}/$$.finished`,
  ];
  const pids = (out: string): number[] =>
    existsSync(out)
      ? readdirSync(out)
          .filter((f) => f.endsWith('.pid'))
          .map((f) => Number(readFileSync(path.join(out, f), 'utf8').trim()))
      : [];

  for (const become of [false, true])
    it(`kill -9 of orch run${become ? ' --become (sudo)' : ''}: the remote commands are ended`, async () => {
      const { root, out } = project();
      const hosts = become ? 'a.example.com,b.example.com' : 'a.example.com';
      const want = become ? 2 : 1;
      const run = start(root, ['run', hosts, ...(become ? ['--become'] : []), '--', ...longCommand(out)]);
      await untilRunning(run, 'the commands to start', () => pids(out).length >= want);
      const running = pids(out);
      assert.ok(running.every(alive), 'the commands run while orch does');
      run.child.kill('SIGKILL');
      const r = await run.done;
      assert.equal(r.code, 137);
      // A give-up bound, not a speed requirement: the watchdog polls once a second.
      await until('the orphaned commands to end', () => !running.some(alive), 30_000);
      for (const pid of running)
        assert.ok(!existsSync(path.join(out, `${pid}.finished`)), 'ended, not finished');
    });

  it('a normal run returns exit codes and output exactly, with and without a trailing newline', async () => {
    const { root } = project();
    const failed = await orch(root, [
      '-o',
      'json',
      'run',
      'a.example.com',
      '--',
      'sh',
      '-c',
      'printf "line\\nno newline é"; printf "warn" >&2; exit 3',
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    const f = (JSON.parse(failed.stdout) as RunJson).hosts[0]!;
    assert.deepEqual(
      { exitCode: f.exitCode, stdout: f.stdout, stderr: f.stderr },
      { exitCode: 3, stdout: 'line\nno newline é', stderr: 'warn' },
    );

    const words = ["it's", 'a  b', '', '$HOME', '!x', 'new\nline'];
    const ok = await orch(root, ['-o', 'json', 'run', 'a.example.com', '--', 'printf', '<%s>', ...words]);
    assert.equal(ok.code, 0, ok.stderr);
    const o = (JSON.parse(ok.stdout) as RunJson).hosts[0]!;
    assert.deepEqual(
      { exitCode: o.exitCode, stdout: o.stdout, stderr: o.stderr },
      { exitCode: 0, stdout: words.map((w) => `<${w}>`).join(''), stderr: '' },
    );

    // The human form: the host's output as it came, then its exit line.
    const text = await orch(root, ['run', 'a.example.com', '--', 'sh', '-c', 'echo one; printf two; exit 4']);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /=== a\.example\.com\none\ntwo\n--- exit 4/);
  });

  it('--timeout still ends the remote command (exit 3)', async () => {
    const { root, out } = project();
    const r = await orch(root, ['run', 'a.example.com', '--timeout', '2', '--', ...longCommand(out)]);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /timed out after 2s/);
    const [pid] = pids(out);
    assert.ok(pid !== undefined, 'the command had started');
    await until('the timed-out command to end', () => !alive(pid), 30_000);
  });
});
