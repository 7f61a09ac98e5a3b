// pg_hba.conf injection through the replication formula. A pillar value that would change the rules PostgreSQL
// loads (a role name or node address carrying blanks, `#`, `,`, `"`, a newline, an `@` include or a `+` group, a
// bad prefix) must stop the compile, naming the key, the template line, the state and the host. Valid values,
// IPv6 included, must render a file that a real PostgreSQL 15 loads with exactly the intended rules, judged by
// its own pg_hba_file_rules view: the whole set of rows is compared, and no row has an error.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nunjucks from 'nunjucks';
import pg from 'pg';
import { InputError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { startTempPostgres, type TempPostgres } from '../helpers/temp-postgres.js';
import { compileError, compileFormula, PRIMARY, preparedContent } from './formula.js';

type Pg = Record<string, unknown>;
const setUser = (user: string) => (p: Pg) => void ((p.replication as Pg).user = user);
const setNode = (address: string) => (p: Pg) => void ((p.nodes as Pg)[PRIMARY] = address);
const setNodes = (nodes: Pg) => (p: Pg) => void (p.nodes = nodes);

const USER_KEY = "pillar key 'postgres.replication.user'";
const NODE_KEY = `pillar key 'postgres.nodes["${PRIMARY}"]'`;

const injected: [string, (p: Pg) => void, string][] = [
  ['a user that ends the field and adds a trust rule', setUser('all 0.0.0.0/0 trust #'), USER_KEY],
  ['a user that includes a file', setUser('@/etc/passwd'), USER_KEY],
  ['a user that names a group', setUser('+admins'), USER_KEY],
  ['a user with a space', setUser('rep user'), USER_KEY],
  ['a user with a comma (a list)', setUser('replicator,all'), USER_KEY],
  ['a user with a double quote', setUser('rep"all'), USER_KEY],
  ['a user with a newline and a second rule', setUser('rep\nhost all all 0.0.0.0/0 trust'), USER_KEY],
  ['a user ending in a backslash (line continuation)', setUser('rep\\'), USER_KEY],
  ['a user that is a regular expression (16+)', setUser('/^.*$'), USER_KEY],
  ['a user longer than 63 bytes', setUser('r'.repeat(64)), USER_KEY],
  ['an address that ends the field and adds a trust rule', setNode('0.0.0.0/0 trust #'), NODE_KEY],
  ['an address with a newline', setNode('10.0.0.1/32 trust\nhost all all 0.0.0.0/0'), NODE_KEY],
  ['an IPv4 prefix above 32', setNode('10.213.0.11/33'), NODE_KEY],
  ['an IPv6 prefix above 128', setNode('fd00::11/129'), NODE_KEY],
  ['a negative prefix', setNode('10.213.0.11/-1'), NODE_KEY],
  ['a prefix with a leading zero', setNode('10.213.0.11/032'), NODE_KEY],
  ['an empty prefix', setNode('10.213.0.11/'), NODE_KEY],
  ['two prefixes', setNode('10.0.0.0/8/8'), NODE_KEY],
  ['an IPv6 zone', setNode('fe80::1%eth0'), NODE_KEY],
  ['a host name where an address belongs', setNode('evil.example.com'), NODE_KEY],
  ['a short IPv4 form', setNode('10.1'), NODE_KEY],
  [
    'a node name that breaks out of the comment',
    setNodes({ 'db\nhost all all 0.0.0.0/0 trust': '10.213.0.11' }),
    "pillar key 'a key of postgres.nodes'",
  ],
  [
    'a node name ending in a backslash (swallows the next rule)',
    setNodes({ 'db\\': '10.213.0.11', other: '10.213.0.12' }),
    "pillar key 'a key of postgres.nodes'",
  ],
];

describe('security: pg_hba.conf injection through the formula', () => {
  for (const [what, edit, key] of injected) {
    it(`refuses ${what} at compile time, naming key, template line, state and host`, async () => {
      const err = await compileError({ edit });
      assert.ok(err instanceof InputError, `an InputError, got ${String(err)}`);
      assert.equal(err.file, 'templates/postgres/pg_hba.conf.njk');
      assert.ok(typeof err.line === 'number' && err.line > 0, 'a template line');
      assert.ok(err.message.includes(key), err.message);
      assert.match(err.message, /state 'postgres_hba' postgres\.hba \(states\/postgres\/common\.yaml:\d+\)/);
      assert.match(err.message, new RegExp(`for host ${PRIMARY.replace(/\./g, '\\.')}`));
      assert.ok(!err.message.includes('security-test-password'));
    });
  }

  describe('valid values, loaded by PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;

    before(async () => {
      server = await startTempPostgres();
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
    });

    interface Row {
      type: string;
      database: string[];
      user_name: string[];
      address: string | null;
      netmask: string | null;
      auth_method: string;
      options: string[] | null;
      error: string | null;
    }

    /** Every row PostgreSQL reads from `text` (the view parses the file on disk; nothing is reloaded). */
    async function load(text: string): Promise<Row[]> {
      writeFileSync(path.join(server.dataDir, 'pg_hba.conf'), text);
      const r = await admin.query<Row>(
        `SELECT type, database, user_name, address, netmask, auth_method, options, error
           FROM pg_hba_file_rules ORDER BY line_number`,
      );
      return r.rows;
    }

    const row = (
      type: string,
      db: string,
      user: string,
      address: string | null,
      netmask: string | null,
      method: string,
    ): Row => ({
      type,
      database: [db],
      user_name: [user],
      address,
      netmask,
      auth_method: method,
      options: null,
      error: null,
    });
    const FIXED = [
      row('local', 'all', 'postgres', null, null, 'peer'),
      row('local', 'all', 'all', null, null, 'peer'),
      row('host', 'all', 'all', '127.0.0.1', '255.255.255.255', 'scram-sha-256'),
      row('host', 'all', 'all', '::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'scram-sha-256'),
      row('local', 'replication', 'all', null, null, 'peer'),
      row('host', 'replication', 'all', '127.0.0.1', '255.255.255.255', 'scram-sha-256'),
    ];
    const nodeRows = (user: string, address: string, netmask: string) => [
      row('host', 'replication', user, address, netmask, 'scram-sha-256'),
      row('host', 'postgres', user, address, netmask, 'scram-sha-256'),
    ];

    it('IPv4 and IPv6 nodes, with and without a prefix: /32 and /128 are written for single hosts', async () => {
      const c = await compileFormula({
        edit: setNodes({
          [PRIMARY]: '10.213.0.11',
          'replica.example.com': 'fd00:213::12',
          'net4.example.com': '10.1.0.0/16',
          'net6.example.com': 'fd00:1::/64',
        }),
      });
      const text = preparedContent(c, 'postgres_hba');
      assert.match(text, /fd00:213::12\/128\s/);
      assert.match(text, /10\.213\.0\.11\/32\s/);
      assert.deepEqual(await load(text), [
        ...FIXED,
        ...nodeRows('replicator', '10.213.0.11', '255.255.255.255'),
        ...nodeRows('replicator', 'fd00:213::12', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'),
        ...nodeRows('replicator', '10.1.0.0', '255.255.0.0'),
        ...nodeRows('replicator', 'fd00:1::', 'ffff:ffff:ffff:ffff::'),
      ]);
    });

    it('a role named like a keyword is quoted, so it matches only that role', async () => {
      const c = await compileFormula({ edit: setUser('replication') });
      const text = preparedContent(c, 'postgres_hba');
      assert.match(text, /^host\s+replication\s+"replication"\s+10\.213\.0\.11\/32\s/m);
      // The view prints a quoted name without its quotes; the rows are the intended ones and none has an error.
      assert.deepEqual(await load(text), [
        ...FIXED,
        ...nodeRows('replication', '10.213.0.11', '255.255.255.255'),
        ...nodeRows('replication', '10.213.0.12', '255.255.255.255'),
      ]);
    });

    it('the file of the repository formula loads exactly its intended rules', async () => {
      const text = preparedContent(await compileFormula(), 'postgres_hba');
      assert.deepEqual(await load(text), [
        ...FIXED,
        ...nodeRows('replicator', '10.213.0.11', '255.255.255.255'),
        ...nodeRows('replicator', '10.213.0.12', '255.255.255.255'),
      ]);
    });

    it('the attack is real: the old template with the same pillar loads a trust rule for 0.0.0.0/0', async function () {
      let old: string;
      try {
        old = execFileSync('git', ['show', 'a52b10f:templates/postgres/pg_hba.conf.njk'], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        });
      } catch {
        this.skip();
      }
      const env = new nunjucks.Environment(null, { autoescape: false, trimBlocks: true, lstripBlocks: true });
      const text = env.renderString(old!, {
        nodes: { [PRIMARY]: '10.213.0.11' },
        replication_user: 'all 0.0.0.0/0 trust #',
      });
      const rows = await load(text);
      const trustAll = rows.filter(
        (r) => r.auth_method === 'trust' && r.address === '0.0.0.0' && r.netmask === '0.0.0.0',
      );
      assert.ok(trustAll.length > 0, 'the old template let a trust rule for the whole internet load');
    });
  });
});
