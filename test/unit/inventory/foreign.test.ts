// Ansible INI and YAML inventories and a salt-ssh roster read with -i, as Ansible's inventory guide and salt-ssh's
// roster docs define them: groups, children, group and host vars (inline, group_vars/, host_vars/), precedence,
// connection vars, ranges; then orch's own validation and errors.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../../src/config/project.js';
import { InputError } from '../../../src/errors.js';
import { expandRange } from '../../../src/inventory/ansible.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const FIX = path.join(REPO_ROOT, 'test/fixtures/ansible-inventory');
const load = (file: string) => loadInventory(loadProject({ root: REPO_ROOT, inventory: [file] }));

for (const [format, file] of [
  ['INI', 'hosts.ini'],
  ['YAML', 'hosts.yml'],
] as const) {
  describe(`inventory: Ansible ${format}`, () => {
    const inv = load(path.join(FIX, file));
    const h = (name: string) => inv.hosts.get(name)!;

    it('ranges expand, with their width', () => {
      for (const n of [
        'db01.example.com',
        'db02.example.com',
        'db03.example.com',
        'weba.example.com',
        'webb.example.com',
      ])
        assert.ok(inv.hosts.has(n), n);
      assert.equal(inv.hosts.size, 8);
    });
    it('children: a host of a child group is in the parent, and every host in all', () => {
      assert.deepEqual(h('db01.example.com').groups, ['all', 'prod', 'db']);
      assert.deepEqual(h('www.example.com').groups, ['all', 'prod', 'web']);
      assert.deepEqual(h('lonely.example.com').groups, ['all', 'ungrouped']);
      assert.deepEqual(inv.groups.get('prod')?.length, 7);
    });
    it('connection vars are the host fields; host vars beat group vars', () => {
      const p = h('primary.example.com');
      assert.equal(p.address, '10.0.0.5');
      assert.equal(p.port, 2222);
      assert.equal(p.user, 'dbadmin', 'ansible_user of [db:vars]');
      assert.equal(p.identity, path.join(os.homedir(), '.ssh/db_key'));
      assert.equal(h('db01.example.com').user, 'postgres', 'inline host var over [db:vars]');
      assert.equal(h('weba.example.com').port, 2201);
      assert.deepEqual(h('www.example.com').become, { method: 'sudo', user: 'deploy' });
      assert.equal(h('lonely.example.com').user, 'root');
      assert.equal('ansible_user' in h('db01.example.com').vars, false);
    });
    it('var precedence: all < parent < child < host; group_vars/ and host_vars/ files', () => {
      const v = h('primary.example.com').vars;
      assert.equal(v.ntp, 'pool.ntp.org');
      assert.equal(v.timezone, 'UTC', 'group_vars/all/common.yml');
      assert.equal(v.env, 'prod');
      assert.equal(String(v.pg_version), '15', 'db (child) over prod (parent)');
      assert.equal(v.pg_role, 'primary-from-host-vars', 'host_vars/ over the inventory line');
      assert.equal(h('weba.example.com').vars.http_port, 8080, 'group_vars/web.yml');
      assert.equal(String(h('weba.example.com').vars.pg_version), '14', 'INI [g:vars] values are strings');
    });
    it('each host names the line it was declared on', () => {
      assert.equal(h('lonely.example.com').source.file, `test/fixtures/ansible-inventory/${file}`);
      assert.ok((h('primary.example.com').source.line ?? 0) > 1);
    });
  });
}

describe('inventory: salt-ssh roster', () => {
  const inv = load(path.join(FIX, 'roster'));
  it('host, user, port, priv, sudo and grains', () => {
    const r = inv.hosts.get('replica.example.com')!;
    assert.deepEqual(
      { address: r.address, port: r.port, user: r.user, identity: r.identity, become: r.become },
      {
        address: '10.0.0.6',
        port: 2222,
        user: 'admin',
        identity: '/root/.ssh/id_ed25519',
        become: { method: 'sudo', user: 'root' },
      },
    );
    const p = inv.hosts.get('primary.example.com')!;
    assert.deepEqual(
      { user: p.user, port: p.port, identity: p.identity, vars: p.vars },
      { user: 'root', port: 22, identity: undefined, vars: { pg_role: 'primary' } },
    );
  });
});

describe('inventory: errors of foreign inventories are orch’s own', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-foreign-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = (name: string, text: string, want: RegExp, line?: number) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    assert.throws(
      () => load(file),
      (e: InputError) =>
        e.code === 'INVENTORY_ERROR' && want.test(e.message) && (line === undefined || e.line === line),
    );
  };
  it('a password is refused, never ignored', () =>
    bad(
      'a.ini',
      '[db]\ndb1 ansible_password=x\n',
      /ansible_password: orch logs in with keys or the ssh agent/,
      2,
    ));
  it('a port that is not a number fails orch’s schema', () =>
    bad('b.ini', '[db]\ndb1 ansible_port=abc\n', /port/));
  it('a bad range', () => bad('c.ini', '[db]\ndb[09:01]\n', /host range 'db\[09:01\]'/, 2));
  it('another connection type', () =>
    bad(
      'd.ini',
      'db1 ansible_connection=winrm\n',
      /ansible_connection=winrm: orch connects over ssh only/,
      1,
    ));
  it('a host name orch cannot target', () =>
    bad('e.yml', 'all:\n  hosts:\n    "a,b":\n', /host name 'a,b' is not allowed/));
  it('a roster key orch does not read', () =>
    bad('roster', 'web1:\n  host: 10.0.0.1\n  passwd: secret\n', /passwd: orch logs in with keys/, 3));
  it('an unknown group key in YAML', () => bad('f.yml', 'all:\n  hostz: {}\n', /unknown key 'hostz'/));
});

describe('inventory: host ranges', () => {
  it('numbers with width, letters, strides and several ranges', () => {
    assert.deepEqual(expandRange('db[01:03]', 'f'), ['db01', 'db02', 'db03']);
    assert.deepEqual(expandRange('w[a:c].x', 'f'), ['wa.x', 'wb.x', 'wc.x']);
    assert.deepEqual(expandRange('n[1:9:4]', 'f'), ['n1', 'n5', 'n9']);
    assert.deepEqual(expandRange('r[1:2]c[a:b]', 'f'), ['r1ca', 'r1cb', 'r2ca', 'r2cb']);
  });
});
