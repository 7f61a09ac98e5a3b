// become: sudo or doas, to root or a named user, from orch's inventory and from an Ansible inventory, and the argv
// prefix the SSH connection puts before /bin/sh.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { becomeArgv } from '../../../src/transport/ssh-connection.js';
import { projectAt } from './helpers.js';

let dir = '';

function load(file: string, text: string) {
  writeFileSync(path.join(dir, file), text);
  return loadInventory(projectAt(dir, [path.join(dir, file)]));
}

describe('inventory: become methods', () => {
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'orch-become-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads sudo and doas, the user defaulting to root', () => {
    const inv = load(
      'hosts.yaml',
      `defaults:
  become: { method: doas }
hosts:
  bsd1.example.com: {}
  bsd2.example.com:
    become: { method: doas, user: postgres }
  deb.example.com:
    become: true
  deb2.example.com:
    become: { user: postgres }
`,
    );
    assert.deepEqual(inv.hosts.get('bsd1.example.com')?.become, { method: 'doas', user: 'root' });
    assert.deepEqual(inv.hosts.get('bsd2.example.com')?.become, { method: 'doas', user: 'postgres' });
    assert.deepEqual(inv.hosts.get('deb.example.com')?.become, { method: 'sudo', user: 'root' });
    assert.deepEqual(inv.hosts.get('deb2.example.com')?.become, { method: 'sudo', user: 'postgres' });
  });

  it('refuses a method it does not know, naming the line', () => {
    assert.throws(
      () => load('hosts.yaml', 'hosts:\n  a.example.com:\n    become: { method: su }\n'),
      (err: unknown) => err instanceof InputError && /hosts\.yaml:3: .*become/.test(err.message),
    );
  });

  it('takes ansible_become_method=doas from an Ansible inventory and still refuses su', () => {
    const inv = load('hosts.ini', '[bsd]\nbsd1.example.com ansible_become=true ansible_become_method=doas\n');
    assert.deepEqual(inv.hosts.get('bsd1.example.com')?.become, { method: 'doas', user: 'root' });
    assert.throws(
      () => load('su.ini', '[x]\nx.example.com ansible_become=true ansible_become_method=su\n'),
      /sudo or doas only/,
    );
  });

  it('prefixes doas -n or sudo -n, never a prompting form', () => {
    assert.deepEqual(becomeArgv({ become: { method: 'doas', user: 'root' } }, undefined), [
      'doas',
      '-n',
      '-u',
      'root',
    ]);
    assert.deepEqual(becomeArgv({ become: { method: 'sudo', user: 'pg' } }, undefined), [
      'sudo',
      '-n',
      '-u',
      'pg',
    ]);
    assert.deepEqual(becomeArgv({ become: { method: 'doas', user: 'root' } }, false), []);
    assert.deepEqual(becomeArgv({}, undefined), []);
    assert.deepEqual(becomeArgv({}, true), ['sudo', '-n', '-u', 'root']);
  });
});
