// orch_run_as's su branch (FreeBSD: no runuser, no setpriv) under a stand-in for FreeBSD's su. The stand-in does
// what FreeBSD's su.c does with `su -m [-f] USER ARGS...`: BSD getopt stops at USER, the shell run is the CALLER's
// login shell (never $SHELL), csh gets `-m` and, with -f, `-f` before ARGS, and ARGS are that shell's own
// arguments. The caller's shell is real: dash, and csh from the tcsh package, a test prerequisite (FreeBSD up to
// 13 gives root /bin/csh, which is tcsh). The stand-in does not change uid; what is tested is that the words arrive intact.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RUN_AS_FUNCTION } from '../../../src/shell/actor.js';
import { missingPrereqs, requireIntegration } from '../../helpers/prereqs.js';

const FAKE_SU = `#!/bin/sh
m=; f=
while :; do
  case $1 in -m) m=1; shift ;; -f) f=1; shift ;; -*) echo "su: unknown option $1" >&2; exit 2 ;; *) break ;; esac
done
[ -n "$m" ] || { echo "su: expected -m" >&2; exit 2; }
printf '%s %s\\n' "$1" "\${f:+-f}" > "$FAKE_SU_LOG"; shift
case \${FAKE_CALLER_SHELL##*/} in
  csh) if [ -n "$f" ]; then set -- -m -f "$@"; else set -- -m "$@"; fi ;;
esac
exec "$FAKE_CALLER_SHELL" "$@"
`;

const WORDS = [
  'plain',
  'two words',
  "it's",
  '$HOME and `id`',
  'a "quoted" \\ back',
  '!bang',
  'new\nline',
  '',
];

let dir = '';

function runAs(
  callerShell: string,
  uname: string,
  words: string[],
): { out: string; err: string; rc: number } {
  const script = `${RUN_AS_FUNCTION}
orch_run_as nobody /bin/sh -c 'for a; do printf "<%s>\\n" "$a"; done; printf "leak=%s\\n" "\${ORCH_RA_ARGV-unset}"' sh "$@"`;
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', ...words], {
    encoding: 'utf8',
    env: {
      PATH: path.join(dir, 'bin'),
      FAKE_CALLER_SHELL: callerShell,
      FAKE_SU_LOG: path.join(dir, 'su.log'),
      FAKE_UNAME: uname,
    },
  });
  return { out: r.stdout, err: r.stderr, rc: r.status ?? -1 };
}

const expected = `${WORDS.map((w) => `<${w}>`).join('\n')}\nleak=unset\n`;

describe('shell/actor: orch_run_as through su -m', () => {
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-su-'));
    const bin = path.join(dir, 'bin');
    spawnSync('mkdir', [bin]);
    // Only what the su branch needs: no runuser, no setpriv on this PATH.
    symlinkSync('/usr/bin/id', path.join(bin, 'id'));
    writeFileSync(path.join(bin, 'uname'), '#!/bin/sh\nprintf "%s\\n" "$FAKE_UNAME"\n');
    writeFileSync(path.join(bin, 'su'), FAKE_SU);
    chmodSync(path.join(bin, 'uname'), 0o755);
    chmodSync(path.join(bin, 'su'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every word intact when the caller login shell is sh (FreeBSD 14)', () => {
    const r = runAs('/bin/sh', 'FreeBSD', WORDS);
    assert.equal(r.err, '');
    assert.equal(r.out, expected);
    assert.equal(readFileSync(path.join(dir, 'su.log'), 'utf8'), 'nobody -f\n');
  });

  it('keeps every word intact when the caller login shell is csh (FreeBSD 13)', function () {
    requireIntegration(
      this,
      'the csh su test',
      missingPrereqs().filter((m) => m.includes('csh')),
    );
    const r = runAs('/bin/csh', 'FreeBSD', WORDS);
    assert.equal(r.err, '');
    assert.equal(r.rc, 0);
    assert.equal(r.out, expected);
  });

  it('shows why: csh cannot run the sh text that a plain su -m -c hands it', function () {
    requireIntegration(
      this,
      'the csh su test',
      missingPrereqs().filter((m) => m.includes('csh')),
    );
    const r = spawnSync('/bin/csh', ['-m', '-f', '-c', 'exec "$0" "$@"', 'echo', 'x'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  });

  it('passes -f (skip .cshrc) only on FreeBSD, where su hands it to csh', () => {
    const r = runAs('/bin/sh', 'Linux', WORDS);
    assert.equal(r.out, expected);
    assert.equal(readFileSync(path.join(dir, 'su.log'), 'utf8'), 'nobody \n');
  });
});
