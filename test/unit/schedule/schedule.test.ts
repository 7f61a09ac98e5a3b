// Nightly drift schedules: the systemd unit and cron texts (quoting of paths with spaces, %, $ and quotes), the
// environment kept (paths, never keys), install/list/remove on a temp crontab file and a temp unit directory, and
// the cron command line run through a real /bin/sh to prove its quoting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installCron, installSystemd, listSchedules, removeSchedule } from '../../../src/schedule/install.js';
import {
  cronEntries,
  cronLine,
  parseAt,
  scheduleEnv,
  scheduleName,
  setCronEntry,
  systemdUnits,
  systemdWord,
  type ScheduleSpec,
} from '../../../src/schedule/text.js';

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  name: 'orch-drift-db',
  hour: 2,
  minute: 30,
  root: '/srv/my project',
  node: '/usr/bin/node',
  nodeArgs: [],
  main: '/opt/orch/dist/src/cli/main.js',
  args: ['group:db', '--on-drift', 'mail -s "drift 100%" ops@example.com', '--no-progress'],
  env: { ORCH_ROOT: '/srv/my project', ORCH_AGE_IDENTITY_FILE: '/root/keys/orch id.txt' },
  logFile: '/srv/my project/.orch/drift-schedule.log',
  ...over,
});

describe('schedule: text', () => {
  it('parses --at and names schedules', () => {
    assert.deepEqual(parseAt('02:30'), { hour: 2, minute: 30 });
    assert.deepEqual(parseAt('7:05'), { hour: 7, minute: 5 });
    for (const bad of ['24:00', '2:3', '02:60', 'noon', '']) assert.throws(() => parseAt(bad), /use HH:MM/);
    assert.equal(scheduleName('*'), 'orch-drift-all');
    assert.equal(scheduleName('group:db'), 'orch-drift-group-db');
    assert.equal(scheduleName('*.Example.com,db1'), 'orch-drift-all-example-com-db1');
    assert.equal(scheduleName('orch-drift-group-db'), 'orch-drift-group-db');
    assert.equal(scheduleName('///'), 'orch-drift-all');
  });

  it('systemd: a oneshot service and a daily persistent timer, words quoted for systemd', () => {
    const { service, timer } = systemdUnits(spec());
    assert.match(service, /^# orch-schedule:orch-drift-db\n\[Unit\]\n/);
    assert.match(service, /^Type=oneshot$/m);
    assert.match(service, /^WorkingDirectory=\/srv\/my project$/m);
    assert.match(service, /^Environment="ORCH_ROOT=\/srv\/my project"$/m);
    assert.match(service, /^Environment="ORCH_AGE_IDENTITY_FILE=\/root\/keys\/orch id.txt"$/m);
    assert.equal(
      /^ExecStart=(.*)$/m.exec(service)![1],
      '/usr/bin/node /opt/orch/dist/src/cli/main.js drift group:db --on-drift "mail -s \\"drift 100%%\\" ops@example.com" --no-progress',
    );
    assert.match(service, /^TimeoutStartSec=14400$/m, 'a hung run does not hold the next night');
    assert.match(service, /^TimeoutStopSec=300$/m);
    assert.match(systemdUnits(spec({ timeoutSec: 600 })).service, /^TimeoutStartSec=600$/m);
    assert.throws(() => systemdUnits(spec({ timeoutSec: 0 })), /positive whole number/);
    assert.match(timer, /^OnCalendar=\*-\*-\* 02:30:00$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.match(timer, /^Unit=orch-drift-db\.service$/m);
    assert.match(timer, /^WantedBy=timers\.target$/m);
    assert.equal(systemdWord('a$HOME'), '"a$$HOME"');
    assert.equal(systemdWord(';'), '";"');
    assert.equal(systemdWord('back\\slash x'), '"back\\\\slash x"');
  });

  it('cron: one marked line, shell-quoted, % escaped for cron, output to a log', () => {
    const line = cronLine(spec());
    assert.ok(line.startsWith("30 2 * * * cd '/srv/my project' && ORCH_ROOT='/srv/my project' "));
    assert.ok(line.endsWith(' # orch-schedule:orch-drift-db'));
    assert.ok(line.includes(`'mail -s "drift 100\\%" ops@example.com'`));
    assert.ok(line.includes(`>> '/srv/my project/.orch/drift-schedule.log' 2>&1`));
    assert.ok(
      line.includes(' $(command -v timeout >/dev/null 2>&1 && echo timeout -k 300 14400) /usr/bin/node '),
    );
    assert.doesNotMatch(line.replace(/\\%/g, ''), /%/);
    assert.deepEqual(
      cronEntries(`MAILTO=x\n${line}\n`, 'f').map((e) => [e.name, e.at, e.kind]),
      [['orch-drift-db', '02:30', 'cron']],
    );
    const twice = setCronEntry(setCronEntry('MAILTO=x\n', 'orch-drift-db', line), 'orch-drift-db', line);
    assert.equal(twice, `MAILTO=x\n${line}\n`);
    assert.throws(() => cronLine(spec({ root: '/a\nb' })), /newline/);
  });

  it('the cron command runs under /bin/sh with every argument intact', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch sched '));
    try {
      const root = path.join(dir, 'my project');
      mkdirSync(path.join(root, '.orch'), { recursive: true });
      const fake = path.join(dir, 'fake main.sh');
      const out = path.join(dir, 'argv.txt');
      writeFileSync(
        fake,
        `#!/bin/sh\nprintf '%s\\n' "$PWD" "$ORCH_ROOT" "$ORCH_AGE_IDENTITY_FILE" "$@" > '${out}'\n`,
      );
      chmodSync(fake, 0o755);
      const s = spec({
        root,
        node: '/bin/sh',
        main: fake,
        env: { ORCH_ROOT: root, ORCH_AGE_IDENTITY_FILE: "/k/it's id" },
        logFile: path.join(root, '.orch', 'log'),
      });
      const line = cronLine(s);
      // What cron hands to /bin/sh: the part after the five time fields, with \% turned back into %.
      const command = line.split(' ').slice(5).join(' ').replace(/\\%/g, '%');
      const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(out, 'utf8').split('\n').slice(0, -1), [
        root,
        root,
        "/k/it's id",
        'drift',
        'group:db',
        '--on-drift',
        'mail -s "drift 100%" ops@example.com',
        '--no-progress',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('environment: paths and settings only; keys and passwords are left out with a warning', () => {
    const { env, warnings } = scheduleEnv('/p', {
      HOME: '/root',
      ORCH_AGE_IDENTITY: 'AGE-SECRET-KEY-1XYZ',
      ORCH_JOB_STORE: 'postgres://orch:s3cret@db/orch',
      ORCH_STATE_DIR: '/var/lib/orch',
      SSH_AUTH_SOCK: '/tmp/agent.1',
    });
    assert.deepEqual(env, { ORCH_ROOT: '/p', HOME: '/root', ORCH_STATE_DIR: '/var/lib/orch' });
    assert.equal(warnings.length, 3);
    assert.ok(!JSON.stringify(env).includes('s3cret') && !JSON.stringify(env).includes('AGE-SECRET'));
    assert.deepEqual(
      scheduleEnv('/p', { ORCH_JOB_STORE: 'postgres://orch@db/orch', ORCH_AGE_IDENTITY_FILE: '/k' }).env,
      {
        ORCH_ROOT: '/p',
        ORCH_JOB_STORE: 'postgres://orch@db/orch',
        ORCH_AGE_IDENTITY_FILE: '/k',
      },
    );
  });
});

describe('schedule: install, list, remove (temp crontab file and unit dir)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'orch-sched-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('cron: adds, replaces, lists and removes only its own line', async () => {
    const crontabFile = path.join(dir, 'crontab');
    writeFileSync(crontabFile, '# mine\n0 5 * * * /usr/bin/backup\n');
    await installCron(spec(), { crontabFile });
    await installCron(spec({ hour: 3 }), { crontabFile });
    await installCron(spec({ name: 'orch-drift-web' }), { crontabFile });
    const text = readFileSync(crontabFile, 'utf8');
    assert.equal(text.split('\n').filter((l) => l.includes('orch-schedule:orch-drift-db')).length, 1);
    const listed = await listSchedules({ crontabFile, unitDir: path.join(dir, 'none') });
    assert.deepEqual(
      listed.map((s) => [s.name, s.at]),
      [
        ['orch-drift-db', '03:30'],
        ['orch-drift-web', '02:30'],
      ],
    );
    assert.deepEqual(
      await removeSchedule('orch-drift-db', { crontabFile, unitDir: path.join(dir, 'none') }),
      [`1 crontab line(s) in ${crontabFile}`],
    );
    const after = readFileSync(crontabFile, 'utf8');
    assert.ok(after.startsWith('# mine\n0 5 * * * /usr/bin/backup\n'));
    assert.ok(!after.includes('orch-drift-db') && after.includes('orch-drift-web'));
    assert.deepEqual(
      await removeSchedule('orch-drift-nope', { crontabFile, unitDir: path.join(dir, 'none') }),
      [],
    );
  });

  it('systemd: writes both units to the given dir without systemctl, lists and removes them', async () => {
    const unitDir = path.join(dir, 'units');
    const files = await installSystemd(spec(), { unitDir });
    assert.deepEqual(
      files.map((f) => path.basename(f)),
      ['orch-drift-db.service', 'orch-drift-db.timer'],
    );
    writeFileSync(path.join(unitDir, 'orch-drift-foreign.timer'), '[Timer]\n'); // not ours: no marker
    const crontabFile = path.join(dir, 'crontab');
    const listed = await listSchedules({ unitDir, crontabFile });
    assert.deepEqual(
      listed.map((s) => [s.name, s.kind, s.at]),
      [['orch-drift-db', 'systemd', '02:30']],
    );
    assert.match(listed[0]!.command, /main\.js drift group:db/);
    const removed = await removeSchedule('orch-drift-db', { unitDir, crontabFile });
    assert.equal(removed.length, 2);
    assert.ok(!existsSync(files[0]!) && !existsSync(files[1]!));
    assert.ok(existsSync(path.join(unitDir, 'orch-drift-foreign.timer')));
  });

  it('systemd-analyze accepts the units, when it is installed', function () {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip();
    const unitDir = path.join(dir, 'units');
    mkdirSync(unitDir);
    const node = process.execPath;
    const s = spec({ root: dir, node, main: path.join(dir, 'main.js') });
    writeFileSync(s.main, '');
    const { service, timer } = systemdUnits(s);
    writeFileSync(path.join(unitDir, `${s.name}.service`), service);
    writeFileSync(path.join(unitDir, `${s.name}.timer`), timer);
    const r = spawnSync(
      'systemd-analyze',
      ['verify', '--man=no', path.join(unitDir, `${s.name}.timer`), path.join(unitDir, `${s.name}.service`)],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${unitDir}:` },
      },
    );
    const ours = (r.stderr + r.stdout).split('\n').filter((l) => l.includes(s.name));
    assert.deepEqual(ours, [], ours.join('\n'));
  });
});
