// The exec'd line of `orch run` under the watchdog (execLine with watchdog): whatever the login shell (sh, bash,
// csh), the command gets its words, stdin, output bytes and exit status exactly as without the watchdog; and when
// the process standing in for sshd (the login shell's parent, a session leader's parent as with sshd) is killed,
// the command gets TERM, or KILL with its process group once the grace has passed.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shJoin, viaBinSh } from '../../../src/shell/quote.js';
import { execLine } from '../../../src/transport/ssh-connection.js';
import {
  COMMAND_GRACE_S,
  CONTROLLER_ARG,
  WATCHDOG_PRELUDE,
  watchedCommand,
} from '../../../src/transport/watchdog.js';
import { missingPrereqs, requireIntegration } from '../../helpers/prereqs.js';

const LOGIN_SHELLS = ['/bin/sh', '/bin/bash', '/bin/csh'];

function needShell(test: Mocha.Context, shell: string): void {
  if (shell !== '/bin/csh') return;
  requireIntegration(
    test,
    'the csh watchdog test',
    missingPrereqs().filter((m) => m.includes('csh')),
  );
}

const hostile = ["it's", 'a b', '', '$HOME', '!x', '`id`', 'back\\slash', 'new\nline', '"dq"', 'é'];
// Words, bytes that are no text (NUL, 0xff), stderr, stdin, no trailing newline, a non-zero exit.
const words = [
  'sh',
  '-c',
  'printf "<%s>" "$@"; printf "\\000\\001\\377"; printf "err" >&2; cat; exit 3',
  'sh',
  ...hostile,
];

function runLine(login: string, line: string, input: string) {
  return spawnSync(login, ['-c', line], { input, env: { PATH: process.env.PATH, HOME: '/h' } });
}

describe('transport/watchdog: the exec line of orch run', () => {
  it('is the plain line without the watchdog, and with it reuses the prelude under the login shell pid', () => {
    const cmd = shJoin(words);
    assert.equal(
      execLine(['sudo', '-n', '-u', 'root'], cmd),
      shJoin(['sudo', '-n', '-u', 'root', ...viaBinSh(cmd)]),
    );
    const watched = execLine(['sudo', '-n', '-u', 'root'], cmd, true);
    assert.ok(watched.startsWith('exec sudo -n -u root /bin/sh -c '), watched);
    assert.ok(watched.endsWith(` ${CONTROLLER_ARG}`));
    // csh expands `!` even in single quotes and cannot quote a newline: neither reaches the login shell.
    assert.doesNotMatch(watched, /[!\n]/);
    // The encoded word is quoted (its backslashes) by shJoin; inside the quotes only letters, digits, escapes.
    const octal = watched
      .split(' ')
      .at(-2)!
      .replace(/^'(.*)'$/, '$1');
    assert.match(octal, /^(?:[A-Za-z0-9]|\\[0-7]{3})+$/);
    const decoded = Buffer.from(
      octal.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      'latin1',
    ).toString('utf8');
    assert.equal(decoded, watchedCommand(cmd));
    // The controller is found by the very text the scripts' prelude uses.
    const find = WATCHDOG_PRELUDE.slice(0, WATCHDOG_PRELUDE.indexOf('if [ -n "$orch_ctl" ]'));
    assert.ok(find.length > 200 && decoded.includes(find));
  });

  for (const login of LOGIN_SHELLS)
    it(`${login}: words, stdin, output bytes and exit status as without the watchdog`, function () {
      needShell(this, login);
      const cmd = shJoin(words);
      const plain = runLine(login, execLine([], cmd), 'in\n');
      const watched = runLine(login, execLine([], cmd, true), 'in\n');
      const expected = Buffer.concat([
        Buffer.from(hostile.map((w) => `<${w}>`).join('')),
        Buffer.from([0, 1, 0xff]),
        Buffer.from('in\n'),
      ]);
      assert.deepEqual(watched.stdout, expected);
      assert.equal(watched.stderr.toString(), 'err');
      assert.equal(watched.status, 3);
      assert.deepEqual(
        [watched.stdout, watched.stderr, watched.status, watched.signal],
        [plain.stdout, plain.stderr, plain.status, plain.signal],
      );
    });

  it('a command killed by a signal ends the same way with and without the watchdog', () => {
    const cmd = shJoin(['sh', '-c', 'kill -KILL $$']);
    const plain = runLine('/bin/sh', execLine([], cmd), '');
    const watched = runLine('/bin/sh', execLine([], cmd, true), '');
    assert.deepEqual([watched.status, watched.signal], [plain.status, plain.signal]);
    assert.notEqual(watched.status, 0);
  });
});

// sshd's part: a parent that starts the login shell as a session leader (setsid, as each sshd session is) and
// stays until it is killed, as the sshd process of a connection is when its controller dies hard.
const STAND_IN = `const { spawn } = require('node:child_process');
const c = spawn(process.argv[1], ['-c', process.argv[2]], { detached: true, stdio: 'ignore' });
c.on('exit', () => process.exit(0));
setInterval(() => {}, 1000);`;

describe('transport/watchdog: orch run ends when its sshd process is gone', function () {
  this.timeout(60_000);
  let tmp = '';
  const started: ChildProcess[] = [];
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-wd-cmd-'));
  });
  afterEach(() => {
    for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function until(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
      await sleep(100);
    }
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pidIn = (f: string) => Number(readFileSync(path.join(tmp, f), 'utf8').trim());

  /** Start `command` under the watchdog through `login` and `become`; kill the stand-in once `ready` exists. */
  async function killController(login: string, become: string[], command: string[], ready: string) {
    const sshd = spawn(process.execPath, ['-e', STAND_IN, login, execLine(become, shJoin(command), true)], {
      stdio: 'ignore',
    });
    started.push(sshd);
    await until(`${ready} to be written`, () => existsSync(path.join(tmp, ready)));
    sshd.kill('SIGKILL');
  }

  // A shell loop in bounded steps; TERM is noted in a file (the trap runs once the TERMed sleep is gone).
  const loop = (pre: string) => [
    'sh',
    '-c',
    `${pre} echo $$ > ${tmp}/pid; i=0; while [ $i -lt 100 ]; do sleep 1; i=$((i+1)); done`,
  ];
  const notesTerm = () => loop(`trap 'echo term > ${tmp}/sig; exit 0' TERM;`);

  for (const login of ['/bin/sh', '/bin/csh'])
    it(`${login}: the command gets TERM`, async function () {
      needShell(this, login);
      await killController(login, [], notesTerm(), 'pid');
      const pid = pidIn('pid');
      await until('the command to end', () => !alive(pid));
      assert.equal(readFileSync(path.join(tmp, 'sig'), 'utf8'), 'term\n');
    });

  it('through a become that forks the shell (as sudo can): TERM all the same', async () => {
    await killController('/bin/sh', ['/bin/sh', '-c', '"$@"; exit $?', 'sh'], notesTerm(), 'pid');
    const pid = pidIn('pid');
    await until('the command to end', () => !alive(pid));
    assert.equal(readFileSync(path.join(tmp, 'sig'), 'utf8'), 'term\n');
  });

  it('a command that ignores TERM is killed with its process group after the grace', async () => {
    const command = loop(
      `trap '' TERM; ( i=0; while [ $i -lt 100 ]; do sleep 1; i=$((i+1)); done ) & echo $! > ${tmp}/child;`,
    );
    await killController('/bin/sh', [], command, 'pid');
    const pid = pidIn('pid');
    const child = pidIn('child');
    assert.ok(alive(pid) && alive(child));
    // A give-up bound only: the grace plus a few polls.
    await until(
      'the command and its child to end',
      () => !alive(pid) && !alive(child),
      (COMMAND_GRACE_S + 15) * 1000,
    );
  });
});
