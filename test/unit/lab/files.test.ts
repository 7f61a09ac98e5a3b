import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';
import { renderHostsFile } from '../../../src/lab/hosts-file.js';
import { renderInventory } from '../../../src/lab/inventory-file.js';
import { BASHRC_GUARD, buildSetupScript } from '../../../src/lab/mounts.js';
import { sshdConfig } from '../../../src/lab/sshd.js';

describe('lab/generated files', () => {
  const hosts = [
    { name: 'replica.example.com', ip: '10.213.0.12' },
    { name: 'primary.example.com', ip: '10.213.0.11' },
  ];

  it('writes the inventory format the loader reads', () => {
    const text = renderInventory('/p/.orch/lab/id_ed25519', hosts);
    assert.deepEqual(yaml.load(text, { schema: yaml.CORE_SCHEMA }), {
      defaults: { user: 'root', port: 22, identity: '/p/.orch/lab/id_ed25519' },
      hosts: {
        'primary.example.com': { address: '10.213.0.11', groups: ['lab'], lab: true },
        'replica.example.com': { address: '10.213.0.12', groups: ['lab'], lab: true },
      },
    });
    const odd = yaml.load(renderInventory('/my dir/key: x', []), { schema: yaml.CORE_SCHEMA }) as Record<
      string,
      unknown
    >;
    assert.deepEqual(odd, { defaults: { user: 'root', port: 22, identity: '/my dir/key: x' }, hosts: {} });
  });

  it('lists every host with full and short name in /etc/hosts', () => {
    const text = renderHostsFile(hosts);
    assert.match(text, /^10\.213\.0\.11\tprimary\.example\.com primary$/m);
    assert.match(text, /^10\.213\.0\.12\treplica\.example\.com replica$/m);
    assert.match(text, /^127\.0\.0\.1\tlocalhost$/m);
  });

  it('configures sshd key-only on the host address', () => {
    const conf = sshdConfig('10.213.0.11');
    for (const line of [
      'ListenAddress 10.213.0.11:22',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'UsePAM no',
      'StrictModes yes',
      'MaxSessions 10',
      'PidFile /run/sshd.pid',
    ]) {
      assert.ok(conf.split('\n').includes(line), line);
    }
  });

  it('builds a setup script that parses, mounts overlays before tmpfs /run, and ends by exec-ing sshd', () => {
    const script = buildSetupScript({ name: 'primary.example.com', dir: "/run/orch-lab/hosts/it's" });
    execFileSync('/bin/sh', ['-n', '-c', script]);
    const lines = script.trim().split('\n');
    const lastOverlay = lines.map((l) => l.includes('-t overlay')).lastIndexOf(true);
    const runTmpfs = lines.findIndex((l) => l.includes('tmpfs') && l.endsWith(' /run'));
    assert.equal(lines.filter((l) => l.includes('-t overlay')).length, 7);
    assert.ok(lastOverlay >= 0 && runTmpfs > lastOverlay);
    assert.ok(lines.findIndex((l) => l.includes('authorized_keys')) < runTmpfs);
    assert.equal(lines.at(-1), 'exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config');
    assert.ok(script.includes("upperdir=/run/orch-lab/hosts/it'\\''s/upper/etc"));
    assert.ok(script.includes(BASHRC_GUARD.replace(/'/g, "'\\''")) || script.includes(`'${BASHRC_GUARD}'`));
  });
});
