import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StepOutput } from '../../../src/shell/protocol.js';
import { InputError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { pkgInstalled } from '../../../src/states/pkg/installed.js';
import { pkgRemoved } from '../../../src/states/pkg/removed.js';
import type { StateContext } from '../../../src/states/types.js';
import { preamble } from '../../../src/shell/script.js';
import { testHost } from '../../helpers/local-connection.js';
import { fixture } from '../facts/fixtures.js';
import { Project, StubConnection, state } from './helpers.js';

const debian = parseFacts(fixture('debian12-pg15-running.txt'));
const rocky = parseFacts(fixture('rocky9-pg16.txt'));
const freebsd = parseFacts(fixture('freebsd14-pg15.txt'));
const families: [string, Facts][] = [
  ['Debian', debian],
  ['RHEL (dnf)', rocky],
  ['RHEL (yum)', { ...rocky, pkgTool: 'yum' }],
  ['FreeBSD', freebsd],
];

const ctx = (facts: Facts): StateContext => ({
  host: testHost(),
  facts,
  pillar: {},
  renderTemplate: () => '',
});
const out = (kv: Record<string, string>, status: number | null = 0, text = ''): StepOutput => ({
  index: 0,
  status,
  kv,
  text,
});
const inst = (a: Record<string, unknown>) => pkgInstalled.args.parse(a);
const rem = (a: Record<string, unknown>) => pkgRemoved.args.parse(a);
const change = { status: 'change' as const, comment: '' };

describe('states: pkg.* generated commands per OS family', () => {
  it('Debian: dpkg-query to check; apt-get install non-interactive, keeping changed config files', () => {
    const a = inst({ name: 'x', names: ['postgresql-15', 'postgresql-client-15'], refresh: true });
    const check = pkgInstalled.check(a, undefined, ctx(debian));
    assert.match(check, /dpkg-query -W -f '\$\{db:Status-Status\} \$\{Version\}' postgresql-15 /);
    assert.match(check, /dpkg-query .* postgresql-client-15 /);
    const apply = pkgInstalled.apply(a, undefined, change, ctx(debian), { watchChanged: null });
    assert.match(apply, /^DEBIAN_FRONTEND=noninteractive\nexport DEBIAN_FRONTEND$/m);
    assert.match(apply, /apt-get -o DPkg::Lock::Timeout=120 update \|\|/);
    assert.match(
      apply,
      /apt-get -y -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=120 install "\$@" \|\|/,
    );
    const removal = pkgRemoved.apply(rem({ name: 'nginx' }), undefined, change, ctx(debian), {
      watchChanged: null,
    });
    assert.match(
      removal,
      /apt-get -y -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=120 remove "\$@"/,
    );
  });

  it('RHEL: rpm -q to check; dnf or yum to install and remove', () => {
    const a = inst({ name: 'postgresql16-server' });
    assert.match(
      pkgInstalled.check(a, undefined, ctx(rocky)),
      /rpm -q --qf '%\{VERSION\}-%\{RELEASE\}' postgresql16-server/,
    );
    assert.match(
      pkgInstalled.apply(a, undefined, change, ctx(rocky), { watchChanged: null }),
      /dnf -y install "\$@"/,
    );
    const yum = { ...rocky, pkgTool: 'yum' as const };
    assert.match(
      pkgInstalled.apply(a, undefined, change, ctx(yum), { watchChanged: null }),
      /yum -y install "\$@"/,
    );
    assert.match(
      pkgRemoved.apply(rem({ name: 'x' }), undefined, change, ctx(rocky), { watchChanged: null }),
      /dnf -y remove "\$@"/,
    );
  });

  it('FreeBSD: pkg info -e to check; pkg install -y / pkg delete -y', () => {
    const a = inst({ name: 'postgresql15-server', refresh: true });
    assert.match(pkgInstalled.check(a, undefined, ctx(freebsd)), /pkg info -e postgresql15-server/);
    const apply = pkgInstalled.apply(a, undefined, change, ctx(freebsd), { watchChanged: null });
    assert.match(apply, /pkg update \|\|/);
    assert.match(apply, /pkg install -y "\$@"/);
    assert.match(apply, /^export ASSUME_ALWAYS_YES$/m);
    assert.match(
      pkgRemoved.apply(rem({ name: 'x' }), undefined, change, ctx(freebsd), { watchChanged: null }),
      /pkg delete -y "\$@"/,
    );
  });

  it('every generated body is valid /bin/sh', () => {
    for (const [family, facts] of families) {
      const a = inst({ name: 'a', names: ['a', 'b+c', 'lib*'], refresh: true });
      for (const body of [
        pkgInstalled.check(a, undefined, ctx(facts)),
        pkgInstalled.apply(a, undefined, change, ctx(facts), { watchChanged: null }),
        pkgRemoved.apply(rem({ name: 'a' }), undefined, change, ctx(facts), { watchChanged: null }),
      ]) {
        execFileSync('/bin/sh', ['-n'], { input: `${preamble('x')}\n( ${body}\n)\n` });
        assert.ok(body.length > 0, family);
      }
    }
  });

  it('an unknown package tool is an error in check and apply', () => {
    const none = { ...debian, pkgTool: 'unknown' as const };
    const a = inst({ name: 'x' });
    assert.equal(pkgInstalled.check(a, undefined, ctx(none)), 'orch_kv tool unknown');
    const c = pkgInstalled.interpretCheck(a, undefined, out({ tool: 'unknown' }), ctx(none), false);
    assert.deepEqual(
      [c.status, c.comment],
      ['error', 'no known package tool on this host (apt, dnf, yum or pkg)'],
    );
    assert.match(pkgInstalled.apply(a, undefined, change, ctx(none), { watchChanged: null }), /exit 1$/);
  });

  it('rejects names that could read as options, and unknown args', () => {
    for (const args of [
      { name: '-y' },
      { name: 'a b' },
      { name: 'x', names: ['ok', '--purge'] },
      { name: 'x', version: '1' },
    ]) {
      assert.equal(pkgInstalled.args.safeParse(args).success, false, JSON.stringify(args));
    }
    assert.equal(
      pkgRemoved.args.safeParse({ name: 'x', refresh: true }).success,
      false,
      'removed has no refresh',
    );
  });
});

describe('states: pkg.* interpretation of check and apply output', () => {
  const a = inst({ name: 'x', names: ['postgresql-15', 'postgresql-contrib'] });
  const query = 'ok\tpostgresql-15\t15.4-1\nmissing\tpostgresql-contrib\n';
  it('installed: lists the missing packages as the diff', () => {
    const c = pkgInstalled.interpretCheck(a, undefined, out({ query }), ctx(debian), false);
    assert.deepEqual(
      [c.status, c.comment, c.diff],
      ['change', 'would install: postgresql-contrib', '+ postgresql-contrib'],
    );
    const clean = pkgInstalled.interpretCheck(
      inst({ name: 'postgresql-15' }),
      undefined,
      out({ query }),
      ctx(debian),
      false,
    );
    assert.deepEqual([clean.status, clean.comment], ['clean', 'installed: postgresql-15 15.4-1']);
  });
  it('removed: lists the present packages with versions', () => {
    const c = pkgRemoved.interpretCheck(
      rem({ name: 'x', names: ['postgresql-15', 'postgresql-contrib'] }),
      undefined,
      out({ query }),
      ctx(debian),
      false,
    );
    assert.deepEqual([c.status, c.diff], ['change', '- postgresql-15 15.4-1']);
  });
  it('a failed or incomplete query is an error, never clean', () => {
    assert.equal(
      pkgInstalled.interpretCheck(a, undefined, out({}, 2, 'sh: dpkg-query: not found'), ctx(debian), false)
        .status,
      'error',
    );
    const partial = pkgInstalled.interpretCheck(
      a,
      undefined,
      out({ query: 'ok\tpostgresql-15\t15\n' }),
      ctx(debian),
      false,
    );
    assert.deepEqual(
      [partial.status, partial.comment],
      ['error', 'package query gave no answer for: postgresql-contrib'],
    );
  });
  it('apply outcomes', () => {
    const ok = pkgInstalled.interpretApply!(
      a,
      undefined,
      out({ comment: 'installed: postgresql-contrib' }, 100),
      ctx(debian),
    );
    assert.deepEqual(ok, { result: true, changed: true, comment: 'installed: postgresql-contrib' });
    const bad = pkgInstalled.interpretApply!(
      a,
      undefined,
      out({}, 1, 'E: Unable to locate package postgresql-contrib\npackage install failed (exit status 100)'),
      ctx(debian),
    );
    assert.equal(bad.result, false);
    assert.match(bad.comment, /Unable to locate package[\s\S]*exit status 100/);
  });
});

// Fake package tools as shell functions over a directory of installed packages (one file per name holding the
// version): rpm + dnf for RHEL, pkg for FreeBSD. Names with a '-' cannot be sh functions, so apt is not faked.
function fakeTools(dir: string): string {
  return `ORCH_FAKE=${dir}
fake_act() {
  v=$1; shift
  for n in "$@"; do [ "$n" != broken ] || { echo "No match for argument: broken"; return 1; }; done
  for n in "$@"; do if [ "$v" = install ]; then echo 1.0-1 > "$ORCH_FAKE/db/$n"; else rm -f "$ORCH_FAKE/db/$n"; fi; done
}
rpm() { eval "n=\\\${$#}"; if [ -f "$ORCH_FAKE/db/$n" ]; then cat "$ORCH_FAKE/db/$n" | tr -d '\\n'; else echo "package $n is not installed"; return 1; fi; }
dnf() { echo "dnf $*" >> "$ORCH_FAKE/log"; shift; v=$1; shift; [ "$v" = makecache ] || fake_act "$v" "$@"; }
pkg() {
  case $1 in
    -N) [ ! -f "$ORCH_FAKE/no-pkg" ] ;;
    bootstrap) echo "pkg $* ASSUME_ALWAYS_YES=\${ASSUME_ALWAYS_YES-}" >> "$ORCH_FAKE/log"; rm -f "$ORCH_FAKE/no-pkg" ;;
    info) [ -f "$ORCH_FAKE/db/$3" ] ;;
    query) cat "$ORCH_FAKE/db/$3" | tr -d '\\n' ;;
    *) echo "pkg $*" >> "$ORCH_FAKE/log"; v=$1; shift; [ "$1" = -y ] && shift; case $v in delete) v=remove ;; update) return 0 ;; esac; fake_act "$v" "$@" ;;
  esac
}`;
}

for (const [family, facts] of [
  ['RHEL', rocky],
  ['FreeBSD', freebsd],
] as const) {
  describe(`states: pkg.* against fake package tools (${family}, real engine runs)`, () => {
    let p: Project;
    let fake: string;
    const log = () =>
      existsSync(path.join(fake, 'log'))
        ? readFileSync(path.join(fake, 'log'), 'utf8').trim().split('\n')
        : [];
    beforeEach(() => {
      fake = mkdtempSync(path.join(tmpdir(), 'orch-fake-pkg-'));
      mkdirSync(path.join(fake, 'db'));
      p = new Project(facts, new StubConnection(fakeTools(fake)));
    });
    afterEach(() => {
      p.cleanup();
      rmSync(fake, { recursive: true, force: true });
    });

    it('installs only what is missing, once; then removes', async () => {
      writeFileSync(path.join(fake, 'db', 'have'), '2.0-1\n');
      p.states(state('pkgs', 'pkg.installed', { names: ['have', 'want1', 'want2'] }));
      const { checks } = await p.check();
      assert.deepEqual([checks[0]!.status, checks[0]!.diff], ['change', '+ want1\n+ want2']);
      assert.deepEqual(log(), [], 'check must not act');
      const r = (await p.apply())[0]!;
      assert.deepEqual([r.status, r.comment], ['changed', 'installed: want1 want2']);
      assert.equal(log().length, 1);
      assert.match(
        log()[0]!,
        family === 'RHEL' ? /^dnf -y install want1 want2$/ : /^pkg install -y want1 want2$/,
      );
      assert.deepEqual(
        (await p.apply()).map((x) => x.status),
        ['clean'],
      );
      assert.equal(log().length, 1);

      p.states(state('gone', 'pkg.removed', { names: ['want2', 'never'] }));
      const c = (await p.check()).checks[0]!;
      assert.deepEqual([c.status, c.diff], ['change', '- want2 1.0-1']);
      assert.deepEqual(
        (await p.apply()).map((x) => [x.status, x.comment]),
        [['changed', 'removed: want2']],
      );
      assert.equal(existsSync(path.join(fake, 'db', 'want2')), false);
      assert.equal(existsSync(path.join(fake, 'db', 'want1')), true);
    });

    it('a failing install fails the state with the tool output', async () => {
      p.states(state('broken', 'pkg.installed', { refresh: true }));
      const r = (await p.apply())[0]!;
      assert.equal(r.status, 'failed');
      assert.match(r.comment, /No match for argument: broken\npackage install failed \(exit status 1\)/);
      assert.match(log()[0]!, /makecache|update/);
    });

    it('rejects a bad package name at compile time', () => {
      p.states(state('x', 'pkg.installed', { name: '--force' }));
      assert.throws(() => p.compile(), InputError);
    });

    if (family === 'FreeBSD')
      it('bootstraps pkg without a question where pkg(8) is not installed yet, then installs', async () => {
        writeFileSync(path.join(fake, 'no-pkg'), '');
        writeFileSync(path.join(fake, 'db', 'want1'), 'stale\n'); // pkg info must not be asked before bootstrap
        p.states(state('pkgs', 'pkg.installed', { names: ['want1'] }));
        const { checks } = await p.check();
        assert.deepEqual([checks[0]!.status, checks[0]!.diff], ['change', '+ want1']);
        assert.deepEqual(log(), [], 'check must not bootstrap');
        rmSync(path.join(fake, 'db', 'want1'));
        const r = (await p.apply())[0]!;
        assert.equal(r.status, 'changed');
        assert.deepEqual(log(), ['pkg bootstrap -y ASSUME_ALWAYS_YES=yes', 'pkg install -y want1']);
        assert.equal((await p.apply())[0]!.status, 'clean');
        assert.equal(log().length, 2, 'bootstrapped once');
      });
  });
}

describe('states: pkg.installed with the real dpkg-query of this machine (read-only)', function () {
  before(function () {
    try {
      execFileSync('dpkg-query', ['-W', 'dash'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
  });
  let p: Project;
  beforeEach(() => (p = new Project(debian)));
  afterEach(() => p.cleanup());

  it('reports an installed package clean with its version and a missing one as a change', async () => {
    p.states(
      state('have', 'pkg.installed', { name: 'dash' }) +
        // refresh: the lists may learn the name, so it is not probed: a change.
        state('want', 'pkg.installed', { name: 'orch-no-such-package', refresh: true }),
    );
    const { checks } = await p.check();
    assert.equal(checks[0]!.status, 'clean');
    assert.match(checks[0]!.comment, /^installed: dash \d/);
    assert.deepEqual([checks[1]!.status, checks[1]!.diff], ['change', '+ orch-no-such-package']);
  });

  it('a package apt knows nothing of is an error of the check naming it, not a change', async () => {
    p.states(state('want', 'pkg.installed', { names: ['dash', 'postgres14-client'] }));
    const { checks } = await p.check();
    assert.equal(checks[0]!.status, 'error');
    assert.match(checks[0]!.comment, /^unknown to apt: postgres14-client \(no such package in its lists/);
  });

  it('apply of an installed package re-checks on the host and calls no apt-get', async () => {
    p.states(state('have', 'pkg.installed', { name: 'dash', refresh: true }));
    const compiled = p.compile();
    const { applyPhase } = await import('../../../src/engine/phases.js');
    // Pretend the check could not tell: the apply step must find out for itself that nothing is missing.
    const results = await applyPhase(p.conn, compiled, [{ status: 'unknown', comment: 'pretend' }]);
    assert.deepEqual([results[0]!.status, results[0]!.changed], ['clean', false]);
  });
});
