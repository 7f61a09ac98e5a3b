// Guards on the other places a value lands: the database psql connects to (libpq reads a name with `=` as a
// connection string; a leading newline used to hide it), postgresql.conf settings and values, .pgpass fields
// (a secret is never shown in the error), slot names, the replica's conninfo pieces, and the formula's state
// files themselves (a pillar value must not be able to add YAML keys or states).
import { strict as assert } from 'node:assert';
import { InputError } from '../../src/errors.js';
import { confValue, postgresConf } from '../../src/states/postgres/conf.js';
import { psqlCall } from '../../src/pg/connector.js';
import { hostProblem, recoveryConf, SLOT_NAME } from '../../src/pg/conninfo.js';
import { pgpassField } from '../../src/render/filters.js';
import { connstrProblem, resolveTarget } from '../../src/pg/target.js';
import { conninfoTarget, parseConninfo, repointConninfo } from '../../src/pg/lifecycle/conninfo.js';
import { pgNode } from '../../src/pg/lifecycle/node.js';
import { templateConninfo } from '../../src/pg/lifecycle/switchover.js';
import type { Connection } from '../../src/transport/types.js';
import { parseFacts } from '../../src/facts/parse.js';
import { Project, state } from '../unit/states/helpers.js';
import { compileError, compileFormula, PRIMARY, preparedContent, REPLICA } from './formula.js';

type Pg = Record<string, unknown>;

describe('security: guards', () => {
  describe('maintenance_db is a database name, never a connection string', () => {
    const payloads = [
      '\nhost=evil.example.com',
      '\r\nhost=evil.example.com',
      'dbname=postgres host=evil.example.com',
      'postgresql://evil.example.com/postgres',
      'postgres://evil.example.com/postgres',
      'postgres\0x',
      'postgres\n',
    ];
    let p: Project;
    beforeEach(() => (p = new Project()));
    afterEach(() => p.cleanup());

    it('is refused at compile time by every postgres.* state', () => {
      for (const db of payloads) {
        for (const [fn, args] of [
          ['postgres.database', { name: 'app' }],
          ['postgres.slot', { name: 's1' }],
          ['postgres.role', { name: 'r1' }],
        ] as const) {
          p.states(state('x', fn, { ...args, maintenance_db: db }));
          assert.throws(
            () => p.compile(),
            (e: unknown) =>
              e instanceof InputError && /maintenance_db/.test(e.message) && /host /.test(e.message),
            `${fn} ${JSON.stringify(db)}`,
          );
        }
      }
    });

    it('the psql command line guard itself refuses them (a leading newline included)', () => {
      const t = resolveTarget(
        { maintenance_db: 'postgres', os_user: 'postgres', port: 5432, socket_dir: '/run' },
        parseFacts(''),
      );
      for (const db of payloads) {
        assert.ok(connstrProblem(db), JSON.stringify(db));
        assert.throws(() => psqlCall({ ...t, db }), /database name/, JSON.stringify(db));
      }
      assert.match(psqlCall(t), / 5432 postgres$/);
      assert.equal(connstrProblem('app_db-1'), undefined);
    });

    it('a host cannot hand psql an option-like OS user through its facts', () => {
      const facts = parseFacts('');
      assert.throws(
        () => resolveTarget({ maintenance_db: 'postgres' }, { ...facts, postgresUser: '--help' }),
        /not a valid user name/,
      );
    });
  });

  describe('postgresql.conf', () => {
    let p: Project;
    beforeEach(() => (p = new Project()));
    afterEach(() => p.cleanup());
    const conf = (settings: Record<string, unknown>) =>
      state('c', 'postgres.conf', { name: '/etc/postgresql/15/main/conf.d/orch.conf', settings });

    it('refuses values with a newline, CR, NUL or a lone surrogate, and include directives, naming the setting', () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ work_mem: "4MB'\narchive_command = 'id'" }, /settings\.work_mem/],
        [{ work_mem: '4MB\r' }, /settings\.work_mem/],
        [{ work_mem: '4MB\0' }, /settings\.work_mem/],
        [{ application_name: 'x\u2028y' }, /settings\.application_name/],
        [{ application_name: 'x\ud800' }, /settings\.application_name/],
        [{ include_dir: '/tmp/evil' }, /include/],
        [{ INCLUDE: '/etc/shadow' }, /settings\.INCLUDE: not a valid key: include/],
        [{ include_if_exists: '/tmp/x' }, /include/],
        [{ 'bad name': 1 }, /setting name/],
        [{ 'a.b.c': 1 }, /setting name/],
      ];
      for (const [settings, re] of cases) {
        p.states(conf(settings));
        assert.throws(
          () => p.compile(),
          (e: unknown) => e instanceof InputError && re.test(e.message),
          JSON.stringify(settings),
        );
      }
    });

    it('writes what the file grammar can hold: quotes and backslashes escaped, odd numbers quoted', () => {
      assert.equal(confValue("it's \\ here"), "'it''s \\\\ here'");
      assert.equal(confValue(1e21), "'1e+21'");
      assert.equal(confValue(-1), '-1');
      assert.equal(confValue(0.5), '0.5');
      assert.throws(() => confValue('a\nb'), /newline/);
      p.states(conf({ search_path: '"$user", public', custom_x: 'ok' }));
      const prepared = postgresConf.prepare!(p.compile().states[0]!.args as never, p.compile().ctx) as {
        content: string;
      };
      assert.match(prepared.content, /^search_path = '"\$user", public'$/m);
    });
  });

  describe('.pgpass', () => {
    it('a password with a newline is a compile error naming the key, never the password', async () => {
      const password = 'line-one-secret\nsecond.example.com:5432:*:postgres:x';
      const err = await compileError({ password });
      assert.ok(err instanceof InputError);
      assert.equal(err.file, 'templates/postgres/pgpass.njk');
      assert.match(err.message, /pillar key 'postgres\.replication\.password'/);
      assert.match(err.message, /state 'postgres_pgpass' file\.managed/);
      assert.match(err.message, new RegExp(`host ${PRIMARY.replace(/\./g, '\\.')}`));
      assert.ok(!err.message.includes('line-one-secret'), err.message);
      assert.match(err.message, /secret value not shown/);
    });

    it('NUL and a newline in any field are refused; a lone * and a leading # are escaped', async () => {
      assert.throws(() => pgpassField('a\0b'), /NUL/);
      assert.throws(() => pgpassField('a\nb'), /newline/);
      assert.equal(pgpassField('*'), '\\*');
      assert.equal(pgpassField('#db'), '\\#db');
      assert.equal(pgpassField('a:b\\c'), 'a\\:b\\\\c');
      const err = await compileError({ edit: (p: Pg) => void ((p.replication as Pg).user = 'rep\0x') });
      assert.match(err.message, /postgres\.replication\.user/);
    });

    it('the port is an integer 1-65535 (a string with a newline cannot add a line)', async () => {
      for (const port of ['5432\n*:*:*:*:x', '0', '65536', 'x', '5432.5']) {
        const err = await compileError({ edit: (p: Pg) => void (p.port = port) });
        assert.match(err.message, /port/, JSON.stringify(port));
      }
      const c = await compileFormula({ edit: (p: Pg) => void (p.nodes = { '*': '10.213.0.11' }) });
      assert.match(preparedContent(c, 'postgres_pgpass'), /^\\\*:5432:\*:replicator:/m);
    });
  });

  describe('slots and the replica conninfo', () => {
    it('slot names follow PostgreSQL: [a-z0-9_]{1,63}, no trailing newline', async () => {
      for (const slot of ['Bad', 'a-b', 'a b', 'a\n', 'x'.repeat(64), '', "a'b"])
        assert.equal(SLOT_NAME.test(slot), false, slot);
      assert.equal(SLOT_NAME.test('replica_example_com'), true);
      for (const host of [PRIMARY, REPLICA]) {
        const err = await compileError({
          host,
          edit: (p: Pg) => void (p.slots = { [REPLICA]: 'bad slot\n' }),
        });
        assert.match(err.message, /slot/);
      }
    });

    it('recovery.conf refuses a host list, a socket path, control characters, bad ports and slots', () => {
      const ok = {
        host: 'db1.example.com',
        port: 5432,
        user: 'rep',
        slot: 'db2',
        passfile: '/var/lib/postgresql/.pgpass',
      };
      assert.match(recoveryConf(ok), /primary_conninfo = 'host=db1\.example\.com port=5432 user=rep/);
      assert.match(recoveryConf({ ...ok, host: 'fd00::1' }), /host=''fd00::1''|host=fd00::1/);
      for (const bad of [
        { host: 'evil.example.com,db1' },
        { host: '/tmp' },
        { host: 'db1 sslmode=disable' },
        { port: 0 },
        { port: 70000 },
        { user: 'rep\nx' },
        { slot: 'a b' },
      ]) {
        assert.throws(() => recoveryConf({ ...ok, ...bad }), /recovery\.conf/, JSON.stringify(bad));
      }
      assert.equal(hostProblem('10.0.0.1'), undefined);
      assert.ok(hostProblem('fe80::1%eth0'));
    });

    it('the replica state refuses a primary that is not one host name or address', async () => {
      for (const primary of ['db1,evil.example.com', '/var/run/postgresql', 'db1 sslmode=disable', '-h']) {
        const err = await compileError({ host: REPLICA, edit: (p: Pg) => void (p.primary = primary) });
        assert.match(err.message, /primary is not a host name/, primary);
        assert.match(err.message, /state 'replica_built'/);
      }
    });
  });

  describe('the lifecycle verbs read the pillar with the same grammar', () => {
    const conn = { host: { name: 'db2.example.com' } } as Connection;
    it('version, cluster and port must be what they name before they become paths and operands', () => {
      for (const [pg, re] of [
        [{ version: '15; reboot' }, /postgres\.version is not a PostgreSQL version/],
        [{ version: '15/../../etc' }, /postgres\.version/],
        [{ version: 15, cluster: '../../../etc' }, /postgres\.cluster is not a cluster name/],
        [{ version: 15, cluster: '-main' }, /postgres\.cluster/],
        [{ version: 15, port: '5432 -h evil' }, /postgres\.port is not a port/],
        [{ version: 15, port: 0 }, /postgres\.port/],
        [{ version: 15, paths: { service: '--root=/tmp' } }, /invalid service name/],
      ] as const)
        assert.throws(() => pgNode(conn, parseFacts(''), pg), re, JSON.stringify(pg));
      const n = pgNode(conn, parseFacts(''), { version: '15', cluster: 'main', port: 5433 });
      assert.equal(n.port, 5433);
      assert.equal(n.major, 15);
    });
  });

  describe("a conninfo taken from another node's settings cannot send a standby elsewhere", () => {
    it('repointing leaves one host and one port, ours; hostaddr and service go', () => {
      const hostile =
        'host=old port=1 user=rep host=evil.example.com port=6 hostaddr=10.6.6.6 service=evil servicefile=/tmp/s sslmode=require';
      const ci = parseConninfo(repointConninfo(hostile, 'db1.example.com', 5432));
      assert.deepEqual(ci, [
        ['host', 'db1.example.com'],
        ['port', '5432'],
        ['user', 'rep'],
        ['sslmode', 'require'],
      ]);
      assert.deepEqual(conninfoTarget('host=a host=b port=1 port=2'), { host: 'b', port: '2' });
    });

    it("the pillar's replication user is one conninfo value in the template", () => {
      const c = { pg: { replication: { user: 'rep host=evil.example.com' } } } as never;
      const ci = parseConninfo(repointConninfo(templateConninfo(c, undefined), 'db1.example.com', 5432));
      assert.deepEqual(
        ci.filter(([k]) => k === 'user' || k === 'host'),
        [
          ['user', 'rep host=evil.example.com'],
          ['host', 'db1.example.com'],
        ],
      );
    });
  });

  describe('the formula state files', () => {
    it('a pillar value with YAML in it cannot add a state (values go in as JSON scalars)', async () => {
      const evil = 'postgresql\n\npwned:\n  cmd.run:\n    - name: touch /tmp/orch-pwned';
      const err = await compileError({ edit: (p: Pg) => void ((p.paths as Pg).service = evil) });
      assert.match(err.message, /service name/);
      const pkg = await compileError({ edit: (p: Pg) => void ((p.paths as Pg).package = evil) });
      assert.match(pkg.message, /package name/);
    });
  });
});
