// Rendering pg_make_replica: version branches (recovery.conf vs -R), OS branches, quoting of hostile values,
// and a syntax check of every rendered variant with dash (and FreeBSD-like sh where available).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recoveryConf } from '../../../../src/pg/conninfo.js';
import { replicaTemplateContext } from '../../../../src/states/postgres/replica-context.js';
import { renderReplicaScript, sampleInput } from './replica-helpers.js';

const freebsd = {
  freebsd: true,
  dataDir: '/var/db/postgres/data15',
  binDir: '/usr/local/bin',
  serviceStart: ['service', 'postgresql', 'start'],
  serviceStop: ['service', 'postgresql', 'stop'],
  serviceStatus: ['service', 'postgresql', 'status'],
};
// Slot and primary host have grammars of their own (refused below); what may hold shell syntax is quoted.
const hostile = {
  dataDir: '/srv/pg data/$HOME/`x`',
  pgpass: "/var/lib/post gres/.pg'pass",
  replicationUser: `rep user's "$(id)"`,
};

const variants: Record<string, Parameters<typeof sampleInput>[0]> = {
  'linux pg15': {},
  'linux pg11': { version: '11' },
  'linux pg10': { version: '10' },
  'linux pg12': { version: '12' },
  'freebsd pg15': freebsd,
  'freebsd pg11': { ...freebsd, version: '11' },
  'hostile pg15': hostile,
  'hostile pg11': { ...hostile, version: '11' },
  forced: { force: true },
};

/** The lines of the rebuild function that run pg_basebackup (continuation lines joined). */
function basebackupCommand(script: string): string {
  const joined = script.replace(/\\\n\s*/g, '');
  const line = joined.split('\n').find((l) => l.includes('"$BIN_DIR/pg_basebackup"'));
  assert.ok(line, 'pg_basebackup command present');
  return line;
}

describe('pg_make_replica template', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'orch-replica-tpl-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, over] of Object.entries(variants)) {
    it(`renders valid POSIX sh: ${name}`, () => {
      const text = renderReplicaScript(sampleInput(over));
      assert.ok(text.startsWith('#!/bin/sh\n'));
      const file = path.join(dir, `${name.replace(/\W/g, '_')}.sh`);
      writeFileSync(file, text);
      for (const shell of ['dash', 'sh', 'bash']) {
        const args = shell === 'bash' ? ['--posix', '-n', file] : ['-n', file];
        const r = spawnSync(shell, args, { encoding: 'utf8' });
        if (r.error) continue; // shell not installed here
        assert.equal(r.status, 0, `${shell} -n: ${r.stderr}`);
      }
    });
  }

  it('PostgreSQL 12+ uses pg_basebackup -R and writes no recovery.conf', () => {
    for (const version of ['12', '15', '16']) {
      const text = renderReplicaScript(sampleInput({ version }));
      const cmd = basebackupCommand(text);
      assert.match(cmd, / -R /);
      assert.match(cmd, /-X stream/);
      assert.match(cmd, /--slot="\$SLOT" --no-password --checkpoint=fast/);
      assert.doesNotMatch(cmd, /--create-slot/);
      assert.doesNotMatch(text, /RECOVERY_CONF|> "\$DATA_DIR\/recovery\.conf"/);
    }
  });

  it('PostgreSQL 10/11 write recovery.conf with standby_mode, primary_conninfo and primary_slot_name', () => {
    for (const version of ['10', '11']) {
      const text = renderReplicaScript(sampleInput({ version }));
      assert.doesNotMatch(basebackupCommand(text), / -R /);
      assert.match(text, /printf '%s' "\$RECOVERY_CONF" \| pg_write "\$DATA_DIR\/recovery.conf"/);
      assert.match(text, /RECOVERY_CONF='standby_mode = '\\''on'\\''\n/);
      assert.match(text, /primary_slot_name = '\\''db2_slot'\\''/);
    }
  });

  it('recovery.conf quotes conninfo values and then the conf string (no password in it)', () => {
    const conf = recoveryConf({
      host: 'db1',
      port: 5433,
      user: "o'neil",
      slot: 's1',
      passfile: '/p a/pgpass',
    });
    assert.equal(
      conf,
      [
        "standby_mode = 'on'",
        // conninfo: user='o\'neil'; conf string: ' doubled, \ doubled
        "primary_conninfo = 'host=db1 port=5433 user=''o\\\\''neil'' passfile=''/p a/pgpass'' application_name=s1'",
        "primary_slot_name = 's1'",
        "recovery_target_timeline = 'latest'",
        '',
      ].join('\n'),
    );
  });

  it('FreeBSD renders stat -f and the rc.d service; Linux renders stat -c and systemctl', () => {
    const bsd = renderReplicaScript(sampleInput(freebsd));
    assert.match(bsd, /stat -f '%Su %Lp' "\$1"/);
    assert.doesNotMatch(bsd, /stat -c/);
    assert.match(bsd, /svc_start\(\) \{ service postgresql start 9>&-; \}/);
    assert.match(bsd, /svc_stop\(\) \{ service postgresql stop 9>&-; \}/);
    assert.match(bsd, /BIN_DIR=\/usr\/local\/bin\n/);
    const linux = renderReplicaScript(sampleInput());
    assert.match(linux, /stat -c '%U %a' "\$1"/);
    assert.doesNotMatch(linux, /stat -f/);
    assert.match(linux, /svc_start\(\) \{ systemctl start postgresql@15-main 9>&-; \}/);
  });

  it('quotes hostile values: the shell sees each as one literal word', () => {
    const text = renderReplicaScript(sampleInput(hostile));
    // Evaluate only the assignments and print the values back.
    const assigns = text
      .split('\nSTREAM_WAIT=')[0]!
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    const probe = `${assigns.join('\n')}\nprintf '%s\\n' "$SLOT" "$SLOT_SQL" "$DATA_DIR" "$PGPASS" "$PRIMARY_HOST" "$REPL_USER" "$FORCE"\n`;
    const r = spawnSync('dash', ['-c', probe], {
      encoding: 'utf8',
      env: { HOME: '/nonexistent', PATH: '/usr/bin:/bin' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, 7), [
      'db2_slot',
      `'db2_slot'`,
      '/srv/pg data/$HOME/`x`',
      "/var/lib/post gres/.pg'pass",
      'db1.example.com',
      `rep user's "$(id)"`,
      '0',
    ]);
  });

  it('force is 1 only when this run forces this host', () => {
    assert.match(renderReplicaScript(sampleInput({ force: true })), /\nFORCE=1\n/);
    assert.match(renderReplicaScript(sampleInput()), /\nFORCE=0\n/);
  });

  it('refuses inputs the script could not use', () => {
    assert.throws(() => replicaTemplateContext(sampleInput({ version: '9.6' })), /10 and later/);
    assert.throws(
      () => replicaTemplateContext(sampleInput({ version: 'latest' })),
      /not a PostgreSQL version/,
    );
    assert.throws(() => replicaTemplateContext(sampleInput({ dataDir: 'relative' })), /absolute/);
    assert.throws(() => replicaTemplateContext(sampleInput({ pgpass: '/a\nb' })), /line break/);
    assert.throws(() => replicaTemplateContext(sampleInput({ serviceStart: [] })), /empty service start/);
    assert.throws(
      () => replicaTemplateContext(sampleInput({ slot: `it's "a" $(slot)` })),
      /slot is not a slot name/,
    );
    assert.throws(
      () => replicaTemplateContext(sampleInput({ primaryHost: 'db1;rm -rf /' })),
      /primary is not a host/,
    );
    assert.throws(
      () => replicaTemplateContext(sampleInput({ primaryHost: 'evil.example,db1' })),
      /primary is not a host/,
    );
    assert.throws(
      () => replicaTemplateContext(sampleInput({ stateDir: 'var/lib' })),
      /state_dir must be an absolute/,
    );
    assert.throws(() => replicaTemplateContext(sampleInput({ keepOldCount: -1 })), /keep_old_count must be/);
    assert.throws(() => replicaTemplateContext(sampleInput({ keepOldDays: 1.5 })), /keep_old_days must be/);
  });

  it("retention and the state directory: unset keeps every copy; the default directory is root's own", () => {
    const none = renderReplicaScript(sampleInput());
    assert.match(none, /^KEEP_OLD_COUNT=''$/m);
    assert.match(none, /^KEEP_OLD_DAYS=''$/m);
    assert.match(none, /^STATE_DIR=\/var\/lib\/orch\/pg_make_replica$/m);
    const set = renderReplicaScript(sampleInput({ keepOldCount: 2, keepOldDays: 0, freebsd: true }));
    assert.match(set, /^KEEP_OLD_COUNT=2$/m);
    assert.match(set, /^KEEP_OLD_DAYS=0$/m);
    assert.match(set, /^STATE_DIR=\/var\/db\/orch\/pg_make_replica$/m);
  });

  it("max_rate: pg_basebackup's --max-rate within its grammar and bounds, absent when unset", () => {
    assert.doesNotMatch(renderReplicaScript(sampleInput()), /--max-rate/);
    assert.match(renderReplicaScript(sampleInput({ maxRate: 4096 })), /^ +--max-rate=4096 \\$/m);
    assert.match(renderReplicaScript(sampleInput({ maxRate: '50M' })), /^ +--max-rate=50M \\$/m);
    assert.match(renderReplicaScript(sampleInput({ maxRate: '32k' })), /--max-rate=32k /);
    for (const bad of [31, '31k', '1025M', 0, 1.5, '1 M', '5G', '$(id)', '-1', '08', '']) {
      assert.throws(
        () => replicaTemplateContext(sampleInput({ maxRate: bad })),
        /max_rate must be kB\/s/,
        String(bad),
      );
    }
  });

  it('never reads stdin while piped into sh -s: everything runs inside main with stdin closed', () => {
    const text = renderReplicaScript(sampleInput());
    assert.match(text, /\nmain "\$@" <\/dev\/null\nexit \$\?\n$/);
    const r = spawnSync('dash', ['-s', '--', '--bogus'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stdout, /usage: pg_make_replica \[--check\]/);
  });
});
