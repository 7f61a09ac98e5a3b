import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factsComplete, parseFacts } from '../../../src/facts/parse.js';
import { factsScript } from '../../../src/facts/script.js';
import { requireShellcheck } from '../../helpers/shellcheck.js';

/** Run a script the way the transport does: the shell reads it from stdin. */
function runOnStdin(shell: string[], script: string): string {
  return execFileSync(shell[0]!, shell.slice(1), { input: script, timeout: 20_000 }).toString();
}

/** The probe's helper functions without its final call, followed by `tail`. */
function withHelpers(tail: string): string {
  const script = factsScript();
  const call = 'orch_facts </dev/null';
  const at = script.lastIndexOf(call);
  assert.ok(at > 0, 'the probe ends by calling orch_facts');
  return `${script.slice(0, at)}${tail}\n`;
}

describe('facts/script (run for real on this machine)', () => {
  const shells: string[][] = [
    ['/bin/sh', '-s'],
    ['dash', '-s'],
  ];
  for (const extra of [
    ['bash', '--posix', '-s'],
    ['busybox', 'sh', '-s'],
  ]) {
    try {
      execFileSync('sh', ['-c', `command -v ${extra[0]}`]);
      shells.push(extra);
    } catch {
      /* that shell is not installed here: the required ones above still run */
    }
  }

  for (const shell of shells) {
    it(`parses this Debian 12 host's real probe output under ${shell.join(' ')}`, () => {
      const out = runOnStdin(shell, factsScript());
      assert.ok(factsComplete(out), 'the probe ran to its end marker');
      const f = parseFacts(out);
      assert.equal(f.kernel, 'Linux');
      assert.equal(f.osFamily, 'Debian');
      assert.equal(f.distro, 'debian');
      assert.equal(f.osVersion, '12');
      assert.equal(f.pkgTool, 'apt');
      assert.equal(f.hostname, execFileSync('uname', ['-n']).toString().trim());
      assert.equal(f.arch, execFileSync('uname', ['-m']).toString().trim());
      assert.equal(f.init, existsSync('/run/systemd/system') ? 'systemd' : 'sysvinit');
      assert.equal(f.postgresUser, 'postgres');
      assert.deepEqual(f.postgres.versions, ['15']);
      assert.equal(f.postgres.binDirs['15'], '/usr/lib/postgresql/15/bin');
      const main = f.postgres.clusters.find((c) => c.version === '15' && c.name === 'main');
      assert.ok(main, 'cluster 15/main found');
      assert.equal(main.dataDir, '/var/lib/postgresql/15/main');
      assert.equal(main.confDir, '/etc/postgresql/15/main');
      assert.equal(main.port, 5432);
      assert.equal(main.running, false, 'the local 15/main cluster is down');
      assert.equal(f.postgres.socketDir, '/var/run/postgresql');
    });
  }

  it('exits 0 and cannot be cut short by a probe reading stdin', () => {
    // Anything after the probe on stdin must not be eaten by its commands.
    const out = runOnStdin(['/bin/sh', '-s'], factsScript().replace(/exit 0\n$/, 'echo AFTER-PROBE\n'));
    assert.ok(factsComplete(out));
    assert.match(out, /AFTER-PROBE\n$/);
  });

  it('reads postgresql.conf settings like PostgreSQL does (last wins, comments, quotes, no "=")', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-facts-'));
    try {
      const conf = path.join(dir, 'postgresql.conf');
      writeFileSync(
        conf,
        [
          "data_directory = '/var/lib/postgresql/15/main'\t\t# use data in another directory",
          '#port = 6000',
          'port = 5433\t\t\t\t# (change requires restart)',
          'port 5434',
          "unix_socket_directories = '/run/pg sock, /tmp'",
          "  listen_addresses='*'",
          'port_unrelated = 1',
        ].join('\n'),
      );
      const out = runOnStdin(
        ['/bin/sh', '-s'],
        withHelpers(
          [
            // orch_conf sets orch_cv (no $(...), no process).
            `orch_conf ${conf} port; echo "$orch_cv"`,
            `orch_conf ${conf} data_directory; echo "$orch_cv"`,
            `orch_conf ${conf} unix_socket_directories; echo "$orch_cv"`,
            `orch_conf ${conf} listen_addresses; echo "$orch_cv"`,
            `orch_conf ${conf} shared_buffers; echo "[unset$orch_cv]"`,
            `orch_conf ${dir}/missing.conf port; echo "[missing$orch_cv]"`,
          ].join('\n'),
        ),
      );
      assert.equal(out, '5434\n/var/lib/postgresql/15/main\n/run/pg sock, /tmp\n*\n[unset]\n[missing]\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells running from stopped by the pid file, then by the socket lock file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-facts-'));
    // A pid that surely is dead: a child that has exited and been reaped.
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    try {
      const live = path.join(dir, 'live');
      const stale = path.join(dir, 'stale');
      const closed = path.join(dir, 'closed');
      const sock = path.join(dir, 'sock');
      for (const d of [live, stale, closed, sock]) mkdirSync(d);
      writeFileSync(path.join(live, 'postmaster.pid'), `${process.pid}\n${live}\n`);
      writeFileSync(path.join(stale, 'postmaster.pid'), `${dead.pid}\n${stale}\n`);
      writeFileSync(path.join(sock, '.s.PGSQL.5499.lock'), `${process.pid}\n${closed}\n`);
      const out = runOnStdin(
        ['/bin/sh', '-s'],
        withHelpers(
          [
            `orch_running ${live} ${sock} 5432; echo "$orch_rv"`,
            `orch_running ${stale} ${sock} 5432; echo "$orch_rv"`,
            `orch_running ${closed} ${sock} 5499; echo "$orch_rv"`,
            `orch_running ${closed} ${sock} 5432; echo "$orch_rv"`,
          ].join('\n'),
        ),
      );
      assert.deepEqual(out.trim().split('\n'), ['yes', 'no', 'yes', 'unknown']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes shellcheck in POSIX sh mode when shellcheck is installed', function () {
    requireShellcheck(this);
    // Throws with shellcheck's findings on any warning.
    execFileSync('shellcheck', ['-s', 'sh', '-'], { input: factsScript() });
  });

  it('uses no bash-isms or GNU-only flags (FreeBSD sh has neither)', () => {
    const script = factsScript();
    const banned: [RegExp, string][] = [
      [/\[\[ /, '[[ ... ]]'],
      [/\bfunction\s/, 'function keyword'],
      [/\blocal\s/, 'local'],
      [/\$'/, "$'...'"],
      [/<<</, 'here-string'],
      [/\$\{[^}]*\/\//, '${var//}'],
      [/\$\{[a-z_]+:[0-9]/, '${var:offset}'],
      [/\becho -[ne]/, 'echo -n/-e'],
      [/\bsed -i\b/, 'sed -i'],
      [/\bstat -c\b/, 'stat -c'],
      [/\breadlink -f\b/, 'readlink -f'],
      [/\bgrep -P\b/, 'grep -P'],
      [/\bsource\s/, 'source'],
      [/\s==\s/, '=='],
    ];
    for (const [re, what] of banned) assert.doesNotMatch(script, re, `the probe uses ${what}`);
    assert.match(script, /2>\/dev\/null \|\| true\nexit 0\n$/, 'the probe as a whole cannot fail');
  });
});
