import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { fixtures, projectAt } from './helpers.js';

function inventoryError(paths: string[], root = fixtures): InputError {
  try {
    loadInventory(projectAt(root, paths));
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.code, 'INVENTORY_ERROR');
    return err;
  }
  assert.fail('expected an inventory error');
}

describe('inventory/load', () => {
  const inv = loadInventory(projectAt(fixtures, [path.join(fixtures, 'good')]));

  it('reads every yaml/yml file of a directory in name order, hosts in inventory order', () => {
    assert.deepEqual(
      [...inv.hosts.keys()],
      ['primary.example.com', 'replica.example.com', 'web1.example.com', 'web2.example.com'],
    );
  });

  it('applies the file defaults and resolves identity paths', () => {
    const primary = inv.hosts.get('primary.example.com')!;
    assert.equal(primary.address, '10.213.0.11');
    assert.equal(primary.port, 2222);
    assert.equal(primary.user, 'admin');
    assert.equal(primary.identity, path.join(fixtures, 'keys/id_ed25519'));
    assert.deepEqual(primary.become, { method: 'sudo', user: 'root' });
    assert.deepEqual(primary.source, { file: 'good/10-hosts.yaml', line: 4 });

    const replica = inv.hosts.get('replica.example.com')!;
    assert.equal(replica.port, 22);
    assert.equal(replica.user, 'root');
    assert.equal(replica.identity, path.join(os.homedir(), '.ssh/id_test'));
    assert.deepEqual(replica.become, { method: 'sudo', user: 'postgres' });

    const web1 = inv.hosts.get('web1.example.com')!;
    assert.equal(web1.address, 'web1.example.com', 'address defaults to the name');
    assert.equal(web1.become, undefined);

    const web2 = inv.hosts.get('web2.example.com')!;
    assert.equal(web2.port, 22, 'defaults of another file do not apply');
    assert.equal(web2.user, 'root');
    assert.equal(web2.identity, undefined);
  });

  it('resolves group membership: own groups first, then groups that list the host', () => {
    assert.deepEqual(inv.hosts.get('primary.example.com')!.groups, ['db', 'pg_primary', 'monitoring']);
    assert.deepEqual(inv.hosts.get('web1.example.com')!.groups, ['web']);
    assert.deepEqual(inv.groups.get('db'), ['primary.example.com', 'replica.example.com']);
    assert.deepEqual(inv.groups.get('monitoring'), ['primary.example.com', 'web2.example.com']);
    assert.deepEqual(inv.groups.get('empty'), []);
  });

  it('deep-merges group vars in group order, then host vars; lists are replaced', () => {
    assert.deepEqual(inv.hosts.get('primary.example.com')!.vars, {
      role: 'primary',
      pg: { port: 5432, max_connections: 100, listen: ['*'], wal_level: 'replica' },
    });
    assert.deepEqual(inv.hosts.get('replica.example.com')!.vars, {
      role: 'replica',
      pg: { port: 5433, max_connections: 100, listen: ['localhost'] },
    });
    assert.deepEqual(inv.hosts.get('web1.example.com')!.vars, { http_port: 80 });
  });

  it('names file, line and key of a wrong type', () => {
    const err = inventoryError([path.join(fixtures, 'bad/port.yaml')]);
    assert.equal(err.message, 'bad/port.yaml:7: hosts.primary.example.com.port: expected a number');
    assert.equal(err.line, 7);
  });

  it('refuses an unknown key, naming it and its line', () => {
    const err = inventoryError([path.join(fixtures, 'bad/unknown-key.yaml')]);
    assert.equal(err.message, 'bad/unknown-key.yaml:4: hosts.primary.example.com.grups: unknown key');
  });

  it('explains what is wrong inside a become mapping', () => {
    const err = inventoryError([path.join(fixtures, 'bad/become.yaml')]);
    assert.match(
      err.message,
      /^bad\/become\.yaml:4: hosts\.primary\.example\.com\.become\.usr: unknown key$/m,
    );
  });

  it('refuses a host defined in two files, naming both', () => {
    const err = inventoryError([path.join(fixtures, 'dup')]);
    assert.match(err.message, /^dup\/b\.yaml:4: host two\.example\.com is defined twice/);
    assert.match(err.message, /dup\/a\.yaml:3/);
  });

  it('refuses a group listing an unknown host, on the line of that entry', () => {
    const err = inventoryError([path.join(fixtures, 'bad/group-unknown-host.yaml')]);
    assert.equal(
      err.message,
      'bad/group-unknown-host.yaml:7: groups.db.hosts: unknown host typo.example.com',
    );
  });

  it('refuses host names that would read as glob patterns', () => {
    const err = inventoryError([path.join(fixtures, 'bad/glob-name.yaml')]);
    assert.match(err.message, /host name 'web\*\.example\.com' is not allowed/);
  });

  it('accepts empty hosts: and groups: sections', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'orch-inv-'));
    try {
      writeFileSync(path.join(root, 'empty.yaml'), '# nothing yet\nhosts:\ngroups:\n');
      const empty = loadInventory(projectAt(root, [path.join(root, 'empty.yaml')]));
      assert.equal(empty.hosts.size, 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says so when the default inventory directory is missing or empty', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'orch-inv-'));
    try {
      const missing = inventoryError([path.join(root, 'inventory')], root);
      assert.match(missing.message, /no inventory: .*inventory does not exist/);
      const other = inventoryError([path.join(root, 'elsewhere.yaml')], root);
      assert.match(other.message, /inventory path not found/);
      const empty = mkdtempSync(path.join(root, 'empty-'));
      assert.match(inventoryError([empty], root).message, /no \*\.yaml or \*\.yml files/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('marks lab hosts: `lab: true`, or logging in with the lab key; other 10.213.0.x hosts are not', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'orch-inv-'));
    try {
      const site = path.join(root, 'inventory');
      const labDir = path.join(root, '.orch', 'lab');
      mkdirSync(site, { recursive: true });
      mkdirSync(labDir, { recursive: true });
      writeFileSync(
        path.join(site, 'hosts.yaml'),
        'hosts:\n  db1: { address: 10.213.0.5, identity: keys/db }\n  copied: { address: 10.213.0.12, lab: true }\n',
      );
      // An export written before the mark existed (or inventory/hosts.yaml of this repository): the lab key marks it.
      writeFileSync(
        path.join(labDir, 'inventory.yaml'),
        `defaults: { identity: ${path.join(labDir, 'id_ed25519')} }\nhosts:\n  old: { address: 10.213.0.13 }\n`,
      );
      writeFileSync(
        path.join(site, 'repo.yaml'),
        'defaults: { identity: .orch/lab/id_ed25519 }\nhosts:\n  r1:\n',
      );
      const inv = loadInventory(projectAt(root, [site, path.join(labDir, 'inventory.yaml')]));
      assert.equal(inv.hosts.get('db1')!.lab, undefined);
      assert.equal(inv.hosts.get('copied')!.lab, true);
      assert.equal(inv.hosts.get('old')!.lab, true);
      assert.equal(inv.hosts.get('r1')!.lab, true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
