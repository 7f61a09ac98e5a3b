// Option injection through owners and groups. `user:`/`group:` reach chown (and pg_user/pg_group reach chown and
// runuser in the replica build) as operands: `--reference=/etc/shadow` or `-R` would be read as options. Every
// state refuses anything but a user or group name or a numeric id at compile time, naming the state, the argument
// and the host; numeric ids work for real.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { isOsAccount } from '../../src/states/common.js';
import { Project, state } from '../unit/states/helpers.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testHost } from '../helpers/local-connection.js';

const HOSTILE = [
  '--reference=/etc/shadow',
  '-R',
  '-',
  'two words',
  'user:group',
  'root\n',
  'a\0b',
  '',
  '0x10',
  '-1',
  '4294967295',
  'é',
];
const VALID = ['root', 'postgres', '_apt', 'www-data', 'svc.app', 'MACHINE$', '0', '1000', '4294967294'];

describe('security: option injection through owners and groups', () => {
  let p: Project;
  beforeEach(() => {
    p = new Project();
  });
  afterEach(() => p.cleanup());

  it('the shared rule: names in the portable set or numeric ids, nothing that starts with -', () => {
    for (const v of HOSTILE) assert.equal(isOsAccount(v), false, JSON.stringify(v));
    for (const v of VALID) assert.equal(isOsAccount(v), true, JSON.stringify(v));
    assert.equal(isOsAccount('a'.repeat(33)), false);
  });

  const states: [string, (owner: Record<string, unknown>) => Record<string, unknown>][] = [
    ['file.managed', (o) => ({ name: p.path('f'), contents: 'x\n', ...o })],
    ['file.directory', (o) => ({ name: p.path('d'), ...o })],
    ['postgres.conf', (o) => ({ name: '/etc/postgresql/15/main/conf.d/x.conf', settings: { a: 1 }, ...o })],
    [
      'postgres.hba',
      (o) => ({
        name: '/etc/pg_hba.conf',
        entries: [{ type: 'local', database: 'all', user: 'all', method: 'peer' }],
        ...o,
      }),
    ],
  ];

  for (const [fn, args] of states) {
    for (const key of ['user', 'group']) {
      it(`${fn} refuses an option-like or malformed ${key} at compile time`, () => {
        for (const bad of HOSTILE) {
          p.states(state('victim', fn, args({ [key]: bad })));
          assert.throws(
            () => p.compile(),
            (err: unknown) =>
              err instanceof InputError &&
              err.file === 'states/site.yaml' &&
              err.message.includes(`state 'victim' ${fn}`) &&
              err.message.includes(key) &&
              err.message.includes(`host ${testHost().name}`),
            `${fn} ${key}: ${JSON.stringify(bad)}`,
          );
        }
      });
    }
  }

  it('numeric ids and names compile for every owner-taking state', () => {
    for (const [fn, args] of states) {
      p.states(state('ok', fn, args({ user: '0', group: 'root' })));
      assert.equal(p.compile().states[0]!.args.user, '0');
    }
  });

  it('postgres.* takes a YAML number as a numeric id', () => {
    p.states(
      `ok:\n  postgres.conf:\n    - name: /x/conf.d/a.conf\n    - settings: {a: 1}\n    - user: 0\n    - group: 105\n`,
    );
    const args = p.compile().states[0]!.args;
    assert.equal(args.user, '0');
    assert.equal(args.group, '105');
  });

  it('--reference=/etc/shadow never reaches chown: nothing is written; a numeric owner is applied for real', async () => {
    p.states(
      state('victim', 'file.managed', {
        name: p.path('stolen'),
        contents: 'x\n',
        user: '--reference=/etc/shadow',
      }),
    );
    await assert.rejects(() => p.apply(), /user: .*must be a user or group name/);
    assert.throws(() => statSync(p.path('stolen')), /ENOENT/);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    p.states(
      state('owned', 'file.managed', {
        name: p.path('owned'),
        contents: 'y\n',
        user: String(uid),
        group: String(gid),
      }),
    );
    const [r] = await p.apply();
    assert.equal(r!.result, true, r!.comment);
    const st = statSync(p.path('owned'));
    assert.equal(st.uid, uid);
    assert.equal(st.gid, gid);
    assert.equal(readFileSync(p.path('owned'), 'utf8'), 'y\n');
  });

  it('postgres.replica refuses option-like pg_user / pg_group (they reach chown and runuser)', () => {
    const base = {
      primary: 'db1.example.com',
      replication_user: 'replicator',
      slot: 'db2',
      version: '15',
      pgpass: '/var/lib/postgresql/.pgpass',
      data_dir: '/var/lib/postgresql/15/main',
      bin_dir: '/usr/lib/postgresql/15/bin',
      service: { start: ['true'], stop: ['true'], status: ['true'] },
    };
    for (const [key, bad] of [
      ['pg_user', '--reference=/etc/shadow'],
      ['pg_group', '-R'],
      ['pg_user', 'post gres'],
      ['pg_group', 'a:b'],
    ] as const) {
      p.states(state('replica', 'postgres.replica', { ...base, [key]: bad }));
      assert.throws(
        () => p.compile(),
        (err: unknown) =>
          err instanceof InputError &&
          err.message.includes(`${key} is not a`) &&
          err.message.includes("state 'replica'"),
        `${key}: ${bad}`,
      );
    }
    mkdirSync(path.join(p.root, 'templates', 'postgres'));
    copyFileSync(
      path.join(REPO_ROOT, 'templates/postgres/pg_make_replica.sh.njk'),
      path.join(p.root, 'templates/postgres/pg_make_replica.sh.njk'),
    );
    p.states(state('replica', 'postgres.replica', { ...base, pg_user: 'postgres', pg_group: 'postgres' }));
    assert.equal(p.compile().states.length, 1);
  });
});
