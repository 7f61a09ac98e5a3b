// ssh_config applied to inventory hosts: which settings it fills, which the inventory keeps, jump host chains,
// Include, tokens, and the errors for what orch cannot or will not do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../../../src/config/project.js';
import { InputError, OrchError } from '../../../src/errors.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { parseProxyJump } from '../../../src/inventory/ssh-config.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { scanHostKey } from '../../../src/transport/host-key-scan.js';
import { connect } from '../../../src/transport/ssh.js';
import { KnownHosts } from '../../../src/transport/known-hosts.js';

describe('ssh_config applied to the inventory', () => {
  let root: string;
  let sshConfig: string;
  const home = os.homedir();

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-sshcfg-'));
    mkdirSync(path.join(root, 'inventory'));
    sshConfig = path.join(root, 'ssh_config');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function load(inventory: string, config: string, orchYaml?: string): Map<string, HostSpec> {
    writeFileSync(path.join(root, 'inventory', 'hosts.yaml'), inventory);
    writeFileSync(sshConfig, config);
    if (orchYaml !== undefined) writeFileSync(path.join(root, 'orch.yaml'), orchYaml);
    return loadInventory(loadProject({ root, sshConfig })).hosts;
  }

  it('fills HostName, User, Port, IdentityFile, IdentitiesOnly and ConnectTimeout from matching Host sections', () => {
    const hosts = load(
      'hosts:\n  db1.prod: {}\n  web.prod: {}\n  other: {}\n',
      [
        'Host db1.prod',
        '  HostName 192.0.2.10',
        '  User postgres',
        '  IdentityFile ~/.ssh/db_%r@%h',
        'Host *.prod !web.prod',
        '  Port 2222',
        '  IdentitiesOnly yes',
        '  ConnectTimeout 4',
        'Host *',
        '  User admin',
        '  IdentityFile %d/.ssh/default',
        '',
      ].join('\n'),
    );
    const db = hosts.get('db1.prod')!;
    assert.equal(db.address, '192.0.2.10');
    assert.equal(db.user, 'postgres', 'the first value obtained wins, as in OpenSSH');
    assert.equal(db.port, 2222);
    assert.deepEqual(db.identityFiles, [
      path.join(home, '.ssh', 'db_postgres@192.0.2.10'),
      path.join(home, '.ssh', 'default'),
    ]);
    assert.equal(db.identitiesOnly, true);
    assert.equal(db.connectTimeoutMs, 4000);
    assert.deepEqual(db.sshConfigFields, [
      'HostName',
      'Port',
      'User',
      'IdentityFile',
      'IdentitiesOnly',
      'ConnectTimeout',
    ]);
    const web = hosts.get('web.prod')!;
    assert.equal(web.port, 22, 'a negated pattern keeps web.prod out of *.prod');
    assert.equal(web.user, 'admin');
    assert.equal(web.address, 'web.prod');
    assert.equal(hosts.get('other')!.identitiesOnly, undefined);
  });

  it('lets everything the inventory writes (entry or file defaults) win over ssh_config', () => {
    const hosts = load(
      [
        'defaults:',
        '  user: deploy',
        'hosts:',
        '  db1:',
        '    address: 10.9.9.9',
        '    port: 2200',
        '    identity: keys/db1',
        '    proxy_jump: none',
        '',
      ].join('\n'),
      'Host db1\n  HostName 192.0.2.1\n  User postgres\n  Port 22\n  IdentityFile ~/.ssh/x\n  ProxyJump bastion\n',
    );
    const db = hosts.get('db1')!;
    assert.equal(db.address, '10.9.9.9');
    assert.equal(db.port, 2200);
    assert.equal(db.user, 'deploy');
    assert.equal(db.identity, path.join(root, 'keys', 'db1'));
    assert.equal(db.identityFiles, undefined);
    assert.equal(db.jumps, undefined, 'proxy_jump: none overrides ssh_config');
  });

  it('resolves ProxyJump hops through ssh_config, or as inventory hosts when they are ones', () => {
    const hosts = load(
      [
        'hosts:',
        '  bastion.lab:',
        '    address: 10.213.0.5',
        '    user: root',
        '    identity: /keys/lab',
        '    lab: true',
        '  hidden: {}',
        '  deep: {}',
        '',
      ].join('\n'),
      [
        'Host hidden',
        '  HostName 10.214.7.2',
        '  ProxyJump bastion.lab',
        'Host deep',
        '  HostName 10.215.0.2',
        '  ProxyJump ops@edge:2022,ssh://bastion.lab',
        'Host edge',
        '  HostName 198.51.100.7',
        '  User nobody',
        '  IdentityFile /keys/edge',
        '',
      ].join('\n'),
    );
    const hidden = hosts.get('hidden')!;
    assert.equal(hidden.address, '10.214.7.2');
    assert.equal(hidden.jumps?.length, 1);
    const hop = hidden.jumps![0]!;
    assert.deepEqual(
      [hop.name, hop.address, hop.user, hop.identity, hop.lab],
      ['bastion.lab', '10.213.0.5', 'root', '/keys/lab', true],
    );
    const deep = hosts.get('deep')!;
    assert.deepEqual(
      deep.jumps!.map((j) => [j.name, j.address, j.port, j.user]),
      [
        ['edge', '198.51.100.7', 2022, 'ops'],
        ['bastion.lab', '10.213.0.5', 22, 'root'],
      ],
      'hop strings override the user and port, ssh_config gives the address',
    );
    assert.deepEqual(deep.jumps![0]!.identityFiles, ['/keys/edge']);
  });

  it('takes the inventory key proxy_jump, and refuses a ProxyCommand rather than dialling directly', async () => {
    const hosts = load(
      'hosts:\n  a: { proxy_jump: "root@b" }\n  b: { address: 192.0.2.2 }\n  c: {}\n',
      'Host c\n  ProxyCommand nc -X 5 -x proxy:1080 %h %p\n',
    );
    assert.deepEqual(
      hosts.get('a')!.jumps!.map((j) => [j.name, j.address, j.user]),
      [['b', '192.0.2.2', 'root']],
    );
    const c = hosts.get('c')!;
    assert.match(c.sshUnsupported ?? '', /ProxyCommand/);
    await assert.rejects(
      connect(c, { knownHosts: new KnownHosts(path.join(root, 'kh')) }),
      (e: unknown) =>
        e instanceof OrchError && e.code === 'SSH_CONFIG_ERROR' && /use ProxyJump/.test(e.message),
    );
    await assert.rejects(
      scanHostKey(c, { knownHosts: new KnownHosts(path.join(root, 'kh')) }),
      (e: unknown) => e instanceof OrchError && e.code === 'SSH_CONFIG_ERROR',
    );
  });

  it('inlines Include files, relative globs included', () => {
    mkdirSync(path.join(root, 'conf.d'));
    writeFileSync(path.join(root, 'conf.d', '10-db'), 'Host db\n  HostName 192.0.2.44\n');
    writeFileSync(path.join(root, 'conf.d', '20-web'), 'Host web\n  Port 2022\n');
    const hosts = load('hosts:\n  db: {}\n  web: {}\n', 'Include conf.d/*\nHost *\n  User ops\n');
    assert.equal(hosts.get('db')!.address, '192.0.2.44');
    assert.equal(hosts.get('web')!.port, 2022);
    assert.equal(hosts.get('db')!.user, 'ops');
  });

  it('reports bad values with the file, and a missing --ssh-config file', () => {
    assert.throws(
      () => load('hosts:\n  a: {}\n', 'Host a\n  Port http\n'),
      (e: unknown) =>
        e instanceof InputError &&
        e.code === 'SSH_CONFIG_ERROR' &&
        e.file === sshConfig &&
        /Port/.test(e.message),
    );
    assert.throws(
      () => load('hosts:\n  a: {}\n', 'Host a\n  ProxyJump a\n'),
      (e: unknown) => e instanceof InputError && /names the host itself/.test(e.message),
    );
    assert.throws(
      () => loadProject({ root, sshConfig: path.join(root, 'nope') }),
      (e: unknown) => e instanceof InputError && e.code === 'SSH_CONFIG_ERROR',
    );
    // `none` reads no file at all, whatever ~/.ssh/config holds.
    writeFileSync(path.join(root, 'inventory', 'hosts.yaml'), 'hosts:\n  a: {}\n');
    const hosts = loadInventory(loadProject({ root, sshConfig: 'none' })).hosts;
    assert.equal(hosts.get('a')!.address, 'a');
  });

  it('reads ssh_config and openssh_known_hosts from orch.yaml', () => {
    writeFileSync(path.join(root, 'inventory', 'hosts.yaml'), 'hosts:\n  a: {}\n');
    writeFileSync(sshConfig, 'Host a\n  HostName 192.0.2.9\n');
    writeFileSync(
      path.join(root, 'orch.yaml'),
      'ssh_config: ssh_config\nopenssh_known_hosts: [~/.ssh/known_hosts, kh2]\n',
    );
    const project = loadProject({ root });
    assert.equal(project.sshConfigFile, sshConfig);
    assert.deepEqual(project.opensshKnownHostsFiles, [
      path.join(home, '.ssh', 'known_hosts'),
      path.join(root, 'kh2'),
    ]);
    assert.equal(loadInventory(project).hosts.get('a')!.address, '192.0.2.9');
    writeFileSync(path.join(root, 'orch.yaml'), 'openssh_known_hosts: yes-please\n');
    assert.throws(() => loadProject({ root }), InputError);
  });

  it('parses ProxyJump hop syntax', () => {
    assert.deepEqual(parseProxyJump('u@h1:2200, [2001:db8::1]:22,h3', { name: 't' }), [
      { host: 'h1', user: 'u', port: 2200 },
      { host: '2001:db8::1', port: 22 },
      { host: 'h3' },
    ]);
    assert.throws(() => parseProxyJump('a b', { name: 't' }), InputError);
  });
});
