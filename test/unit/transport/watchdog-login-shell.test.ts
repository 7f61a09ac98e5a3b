// The watchdog prelude finds the sshd process serving the connection from the word the login shell puts on the
// command line (CONTROLLER_ARG), whatever that login shell is: sh, bash, or csh (root's on FreeBSD up to 13, which
// has no $PPID). Here this test process stands in for sshd: it runs the login shell, which execs /bin/sh (no
// become) or a program that forks /bin/sh as its child (as sudo and doas can), and the prelude must name our pid.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { CONTROLLER_ARG, WATCHDOG_PRELUDE } from '../../../src/transport/watchdog.js';
import { missingPrereqs, requireIntegration } from '../../helpers/prereqs.js';

const SHOW = 'echo "ctl=$orch_ctl"\n';

function controllerSeen(loginShell: string, command: string, prelude = WATCHDOG_PRELUDE): string {
  const r = spawnSync(loginShell, ['-c', command], { input: prelude + SHOW, encoding: 'utf8' });
  assert.equal(r.stderr, '', `${loginShell}: ${r.stderr}`);
  assert.equal(r.status, 0);
  return r.stdout.trim();
}

const direct = `exec /bin/sh -s ${CONTROLLER_ARG}`;
// What sudo does when it keeps a monitor process: the script's shell is a child of the exec'd program.
const forked = `exec /bin/sh -c '/bin/sh -s "$0"; exit $?' ${CONTROLLER_ARG}`;

describe('transport/watchdog: the controller pid under any login shell', () => {
  for (const shell of ['/bin/sh', '/bin/bash', '/bin/csh'])
    it(`${shell}: the parent of the login shell, directly and through a forking become`, function () {
      if (shell === '/bin/csh')
        requireIntegration(
          this,
          'the csh watchdog test',
          missingPrereqs().filter((m) => m.includes('csh')),
        );
      assert.equal(controllerSeen(shell, direct), `ctl=${process.pid}`);
      assert.equal(controllerSeen(shell, forked), `ctl=${process.pid}`);
    });

  it('without /proc (FreeBSD) it asks ps', () => {
    const noProc = WATCHDOG_PRELUDE.replaceAll('/proc/$1/stat', '/nonexistent/$1/stat');
    assert.notEqual(noProc, WATCHDOG_PRELUDE);
    assert.equal(controllerSeen('/bin/sh', direct, noProc), `ctl=${process.pid}`);
  });

  it('a word that is not a pid gives no watchdog', () => {
    for (const word of ["''", 'x1', "'1 2'"])
      assert.equal(controllerSeen('/bin/sh', `exec /bin/sh -s ${word}`), 'ctl=');
  });
});
