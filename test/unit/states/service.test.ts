import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StepOutput } from '../../../src/shell/protocol.js';
import { InputError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { serviceDead } from '../../../src/states/service/dead.js';
import { serviceEnabled } from '../../../src/states/service/enabled.js';
import { serviceRunning } from '../../../src/states/service/running.js';
import type { StateContext } from '../../../src/states/types.js';
import { preamble } from '../../../src/shell/script.js';
import { testHost } from '../../helpers/local-connection.js';
import { fixture } from '../facts/fixtures.js';
import { Project, StubConnection, state } from './helpers.js';

const debian = parseFacts(fixture('debian12-pg15-running.txt'));
const debianSysv = parseFacts(fixture('bare-debian12.txt'));
const rocky = parseFacts(fixture('rocky9-pg16.txt'));
const freebsd = parseFacts(fixture('freebsd14-pg15.txt'));

const ctx = (facts: Facts): StateContext => ({
  host: testHost(),
  facts,
  pillar: {},
  renderTemplate: () => '',
});
const out = (kv: Record<string, string>, status: number | 'skip' | null = 0, text = ''): StepOutput => ({
  index: 0,
  status,
  kv,
  text,
});
const running = (a: Record<string, unknown>) => serviceRunning.args.parse(a);

describe('states: service.* generated commands per OS family', () => {
  it('Debian with systemd: systemctl for existence, state, enablement and actions', () => {
    const a = running({ name: 'nginx', enable: true });
    const check = serviceRunning.check(a, undefined, ctx(debian));
    assert.match(check, /systemctl show -p LoadState nginx/);
    assert.match(check, /svc_active\(\) \{ systemctl is-active --quiet nginx \|\| return 1\n/);
    assert.match(check, /systemctl show -p ConsistsOf --value nginx/);
    assert.match(check, /svc_enabled\(\) \{ systemctl is-enabled --quiet nginx >\/dev\/null 2>&1; \}/);
    const apply = serviceRunning.apply(a, undefined, { status: 'change', comment: '' }, ctx(debian), {
      watchChanged: null,
    });
    assert.match(apply, /svc_start\(\) \{ systemctl start nginx \|\|/);
    assert.match(apply, /svc_enable\(\) \{ systemctl enable nginx \|\|/);
    assert.match(apply, /if ! svc_enabled; then svc_enable;/);
    assert.doesNotMatch(apply, /elif .*then\s+svc_restart/, 'no restart without a watch');
  });

  it('Debian with sysvinit: service and update-rc.d, /etc/init.d for existence', () => {
    const a = serviceDead.args.parse({ name: 'nginx', enable: false });
    const check = serviceDead.check(a, undefined, ctx(debianSysv));
    assert.match(check, /svc_exists\(\) \{ \[ -x \/etc\/init.d\/nginx \]; \}/);
    assert.match(check, /svc_active\(\) \{ service nginx status >\/dev\/null 2>&1; \}/);
    const apply = serviceDead.apply(a, undefined, { status: 'change', comment: '' }, ctx(debianSysv), {
      watchChanged: null,
    });
    assert.match(apply, /svc_stop\(\) \{ service nginx stop \|\|/);
    assert.match(apply, /svc_disable\(\) \{ update-rc.d nginx disable \|\|/);
    assert.match(apply, /if svc_enabled; then svc_disable;/);
  });

  it('RHEL with systemd: systemctl; sysvinit RHEL would use chkconfig', () => {
    const a = serviceEnabled.args.parse({ name: 'postgresql-16' });
    assert.match(
      serviceEnabled.apply(a, undefined, { status: 'change', comment: '' }, ctx(rocky), {
        watchChanged: null,
      }),
      /systemctl enable postgresql-16/,
    );
    const sysv = { ...rocky, init: 'sysvinit' as const };
    assert.match(
      serviceEnabled.apply(a, undefined, { status: 'change', comment: '' }, ctx(sysv), {
        watchChanged: null,
      }),
      /chkconfig postgresql-16 on/,
    );
  });

  it('FreeBSD: rc.d paths, `one` actions (work whether rc.conf enables it or not), sysrc', () => {
    const a = running({ name: 'postgresql', enable: true, reload: true });
    const check = serviceRunning.check(a, undefined, ctx(freebsd));
    assert.match(check, /\[ -x \/etc\/rc.d\/postgresql \] \|\| \[ -x \/usr\/local\/etc\/rc.d\/postgresql \]/);
    assert.match(check, /service postgresql onestatus >\/dev\/null 2>&1/);
    assert.match(check, /service postgresql enabled/);
    const apply = serviceRunning.apply(a, undefined, { status: 'clean', comment: '' }, ctx(freebsd), {
      watchChanged: 'orch_chg 0',
    });
    assert.match(apply, /service postgresql onestart/);
    assert.match(apply, /sysrc postgresql_enable=YES/);
    assert.match(apply, /elif orch_chg 0; then\n\s*svc_reload/);
    assert.match(
      serviceDead.apply(
        serviceDead.args.parse({ name: 'sshd', enable: false }),
        undefined,
        { status: 'change', comment: '' },
        ctx(freebsd),
        { watchChanged: null },
      ),
      /sysrc sshd_enable=NO/,
    );
  });

  it('restarts under the watch condition only', () => {
    const a = running({ name: 'postgresql' });
    const apply = serviceRunning.apply(a, undefined, { status: 'clean', comment: '' }, ctx(debian), {
      watchChanged: 'orch_chg 1 || orch_chg 2',
    });
    assert.match(
      apply,
      /if ! svc_active; then\n\s*svc_start;[\s\S]*elif orch_chg 1 \|\| orch_chg 2; then\n\s*svc_restart;/,
    );
    assert.equal(serviceRunning.reactsToWatch, true);
    assert.notEqual(serviceDead.reactsToWatch, true);
  });

  it('every generated body is valid /bin/sh', () => {
    for (const facts of [debian, debianSysv, rocky, { ...rocky, init: 'sysvinit' as const }, freebsd]) {
      const a = running({ name: 'svc@1', enable: false, reload: true });
      const bodies = [
        serviceRunning.check(a, undefined, ctx(facts)),
        serviceRunning.apply(a, undefined, { status: 'change', comment: '' }, ctx(facts), {
          watchChanged: 'orch_chg 0',
        }),
        serviceRunning.apply(
          running({ name: 'x' }),
          undefined,
          { status: 'change', comment: '' },
          ctx(facts),
          { watchChanged: null },
        ),
        serviceDead.apply(
          serviceDead.args.parse({ name: 'x', enable: true }),
          undefined,
          { status: 'change', comment: '' },
          ctx(facts),
          { watchChanged: null },
        ),
        serviceEnabled.apply({ name: 'x' }, undefined, { status: 'change', comment: '' }, ctx(facts), {
          watchChanged: null,
        }),
      ];
      for (const body of bodies)
        execFileSync('/bin/sh', ['-n'], { input: `${preamble('x')}\n( ${body}\n)\n` });
    }
  });

  it('rejects service names that could be options or hold spaces, and unknown args', () => {
    for (const bad of ['-x', 'a b', 'x;y', ''])
      assert.equal(serviceRunning.args.safeParse({ name: bad }).success, false, bad);
    assert.equal(serviceRunning.args.safeParse({ name: 'x', restart: true }).success, false);
  });
});

describe('states: service.* interpretation of check and apply output', () => {
  const a = running({ name: 'pg', enable: true });
  it('not installed (yet) is unknown, never clean', () => {
    for (const fn of [serviceRunning, serviceDead, serviceEnabled]) {
      const c = fn.interpretCheck(
        { name: 'pg' } as never,
        undefined,
        out({ exists: '0' }),
        ctx(debian),
        false,
      );
      assert.equal(c.status, 'unknown');
      assert.match(c.comment, /not found on the host \(yet\)/);
    }
  });
  it('running: start and enable, clean, watch-triggered restart or reload', () => {
    const c = serviceRunning.interpretCheck(
      a,
      undefined,
      out({ exists: '1', active: '0', enabled: '0' }),
      ctx(debian),
      false,
    );
    assert.deepEqual(
      [c.status, c.comment, c.diff],
      ['change', 'pg: would start, enable', 'pg: stopped -> running\npg at boot: disabled -> enabled'],
    );
    const clean = out({ exists: '1', active: '1', enabled: '1' });
    assert.equal(serviceRunning.interpretCheck(a, undefined, clean, ctx(debian), false).status, 'clean');
    const w = serviceRunning.interpretCheck(a, undefined, clean, ctx(debian), true);
    assert.deepEqual([w.status, w.comment], ['change', 'would restart (watched state would change)']);
    const r = serviceRunning.interpretCheck(
      running({ name: 'pg', reload: true }),
      undefined,
      clean,
      ctx(debian),
      true,
    );
    assert.equal(r.comment, 'would reload (watched state would change)');
    assert.equal(
      serviceRunning.interpretCheck(a, undefined, out({}, 1, 'boom'), ctx(debian), false).status,
      'error',
    );
  });
  it('dead: stop and disable', () => {
    const d = serviceDead.args.parse({ name: 'pg', enable: false });
    const c = serviceDead.interpretCheck(
      d,
      undefined,
      out({ exists: '1', active: '1', enabled: '1' }),
      ctx(debian),
      false,
    );
    assert.deepEqual([c.status, c.comment], ['change', 'pg: would stop, disable']);
    assert.equal(
      serviceDead.interpretCheck(
        d,
        undefined,
        out({ exists: '1', active: '0', enabled: '0' }),
        ctx(debian),
        false,
      ).status,
      'clean',
    );
  });
  it('apply outcomes: changed with the actions, failure with output', () => {
    const ok = serviceRunning.interpretApply!(
      a,
      undefined,
      out({ comment: 'pg: started enabled' }, 100),
      ctx(debian),
    );
    assert.deepEqual(ok, { result: true, changed: true, comment: 'pg: started enabled' });
    const bad = serviceRunning.interpretApply!(
      a,
      undefined,
      out({}, 1, 'Job for pg.service failed.\nstart pg failed (exit status 1)'),
      ctx(debian),
    );
    assert.equal(bad.result, false);
    assert.match(bad.comment, /start pg failed \(exit status 1\)/);
  });
});

// A fake systemd: systemctl as a shell function keeping the unit's state as files in a temp dir, logging calls.
// The unit under test may have parts (file `parts`, one name a line): like Debian's `postgresql` umbrella, it is
// started with its parts (Wants), stopped with them (PartOf), and stays active when a part is stopped alone.
function fakeSystemctl(dir: string): string {
  return `ORCH_FAKE=${dir}
systemctl() {
  echo "$*" >> "$ORCH_FAKE/log"
  case $1 in
    show)
      if [ "$3" = ConsistsOf ]; then cat "$ORCH_FAKE/parts" 2>/dev/null; return 0; fi
      if [ -f "$ORCH_FAKE/installed" ]; then echo LoadState=loaded; else echo LoadState=not-found; fi ;;
    is-active)
      if grep -qx "$3" "$ORCH_FAKE/parts" 2>/dev/null; then [ -f "$ORCH_FAKE/up-$3" ]; else [ -f "$ORCH_FAKE/running" ]; fi ;;
    is-enabled) [ -f "$ORCH_FAKE/enabled" ] ;;
    start|restart) if [ -f "$ORCH_FAKE/broken" ]; then echo "Job for $2.service failed."; return 1; fi
      touch "$ORCH_FAKE/running"
      for p in $(cat "$ORCH_FAKE/parts" 2>/dev/null); do touch "$ORCH_FAKE/up-$p"; done ;;
    stop) rm -f "$ORCH_FAKE/running" "$ORCH_FAKE"/up-* ;;
    enable) touch "$ORCH_FAKE/enabled" ;;
    disable) rm -f "$ORCH_FAKE/enabled" ;;
    reload) : ;;
  esac
}`;
}

describe('states: service.running against a fake systemctl (real engine runs)', () => {
  let p: Project;
  let fake: string;
  const actions = () =>
    existsSync(path.join(fake, 'log'))
      ? readFileSync(path.join(fake, 'log'), 'utf8')
          .split('\n')
          .filter((l) => /^(start|stop|restart|reload|enable|disable) /.test(l))
      : [];
  beforeEach(() => {
    fake = mkdtempSync(path.join(tmpdir(), 'orch-fake-systemd-'));
    p = new Project(debian, new StubConnection(fakeSystemctl(fake)));
  });
  afterEach(() => {
    p.cleanup();
    rmSync(fake, { recursive: true, force: true });
  });
  const yaml = (content: string, extra: Record<string, unknown> = {}) =>
    state('conf', 'file.managed', { name: p.path('app.conf'), contents: content }) +
    state('app', 'service.running', { enable: true, watch: ['conf'], ...extra });

  it('starts and enables once, restarts only when the watched file changed', async () => {
    writeFileSync(path.join(fake, 'installed'), '');
    p.states(yaml('v1\n'));
    assert.deepEqual(
      (await p.check()).checks.map((c) => c.status),
      ['change', 'change'],
    );
    assert.deepEqual(actions(), [], 'check must not act');

    let results = await p.apply();
    assert.deepEqual(
      results.map((r) => r.status),
      ['changed', 'changed'],
    );
    assert.equal(results[1]!.comment, 'app: enabled started');
    assert.deepEqual(actions(), ['enable app', 'start app'], 'a fresh start needs no restart');

    results = await p.apply();
    assert.deepEqual(
      results.map((r) => r.status),
      ['clean', 'clean'],
    );
    assert.deepEqual(actions(), ['enable app', 'start app']);

    p.states(yaml('v2\n'));
    const test = await p.check();
    assert.deepEqual(
      [test.checks[1]!.status, test.checks[1]!.comment],
      ['change', 'would restart (watched state would change)'],
    );
    results = await p.apply();
    assert.deepEqual(
      results.map((r) => r.status),
      ['changed', 'changed'],
    );
    assert.equal(results[1]!.comment, 'app: restarted');
    assert.deepEqual(actions(), ['enable app', 'start app', 'restart app']);
  });

  it('reloads instead of restarting with reload: true', async () => {
    writeFileSync(path.join(fake, 'installed'), '');
    writeFileSync(path.join(fake, 'running'), '');
    writeFileSync(path.join(fake, 'enabled'), '');
    p.states(yaml('v1\n', { reload: true }));
    assert.deepEqual(
      (await p.apply()).map((r) => r.status),
      ['changed', 'changed'],
    );
    assert.deepEqual(actions(), ['reload app']);
  });

  it('unknown in check when not installed; apply fails if still missing; a failed start fails the state', async () => {
    p.states(yaml('v1\n'));
    assert.equal((await p.check()).checks[1]!.status, 'unknown');
    let results = await p.apply();
    assert.equal(results[1]!.status, 'failed');
    assert.match(results[1]!.comment, /service app not found/);

    writeFileSync(path.join(fake, 'installed'), '');
    writeFileSync(path.join(fake, 'broken'), '');
    results = await p.apply();
    assert.equal(results[1]!.status, 'failed');
    assert.match(results[1]!.comment, /Job for app.service failed\.\nstart app failed \(exit status 1\)/);
  });

  it('service.dead stops and disables; a missing service is nothing to stop', async () => {
    for (const f of ['installed', 'running', 'enabled']) writeFileSync(path.join(fake, f), '');
    p.states(state('app', 'service.dead', { enable: false }));
    assert.deepEqual(
      (await p.apply()).map((r) => [r.status, r.comment]),
      [['changed', 'app: stopped disabled']],
    );
    assert.equal((await p.apply())[0]!.status, 'clean');
    rmSync(path.join(fake, 'installed'));
    assert.deepEqual(
      (await p.apply()).map((r) => [r.status, r.comment]),
      [['clean', 'service app is not installed; nothing to stop']],
    );
  });

  it("an umbrella unit counts as running only while its parts run (Debian's postgresql and its cluster)", async () => {
    writeFileSync(path.join(fake, 'installed'), '');
    writeFileSync(path.join(fake, 'parts'), 'postgresql@15-main.service\n');
    p.states(state('app', 'service.running', {}));
    assert.deepEqual(
      (await p.apply()).map((r) => [r.status, r.comment]),
      [['changed', 'app: started']],
    );
    assert.equal((await p.check()).checks[0]!.status, 'clean');
    // The cluster stopped by hand: the umbrella itself still says active.
    rmSync(path.join(fake, 'up-postgresql@15-main.service'));
    const c = (await p.check()).checks[0]!;
    assert.deepEqual([c.status, c.comment], ['change', 'app: would start']);
    assert.deepEqual(
      (await p.apply()).map((r) => [r.status, r.comment]),
      [['changed', 'app: started']],
    );
    assert.ok(existsSync(path.join(fake, 'up-postgresql@15-main.service')));
    assert.equal((await p.check()).checks[0]!.status, 'clean');
  });

  it('rejects a bad service name at compile time', () => {
    p.states(state('x', 'service.running', { name: 'a;b' }));
    assert.throws(() => p.compile(), InputError);
  });
});
