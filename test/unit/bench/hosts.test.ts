import { strict as assert } from 'node:assert';
import { benchHostNames, keysByName, proxiedKnownHosts } from '../../../bench/hosts.js';

describe('bench hosts: names and proxied known_hosts', () => {
  it('lab01..labNN', () => {
    assert.deepEqual(benchHostNames(3), ['lab01.example.com', 'lab02.example.com', 'lab03.example.com']);
    assert.equal(benchHostNames(50)[49], 'lab50.example.com');
  });

  it('writes the lab keys under the proxied [address]:port names', () => {
    const exported = [
      'lab01.example.com,10.213.0.101 ssh-ed25519 AAAAC3one',
      'lab01.example.com,10.213.0.101 ecdsa-sha2-nistp256 AAAAE2one',
      'other.example.com,10.213.0.9 ssh-ed25519 AAAAC3other',
      '# comment',
    ].join('\n');
    const keys = keysByName(exported);
    assert.deepEqual(keys.get('lab01.example.com'), [
      'ssh-ed25519 AAAAC3one',
      'ecdsa-sha2-nistp256 AAAAE2one',
    ]);
    const text = proxiedKnownHosts([{ name: 'lab01.example.com', address: '127.0.0.1', port: 40001 }], keys);
    assert.equal(
      text,
      '[127.0.0.1]:40001,[lab01.example.com]:40001 ssh-ed25519 AAAAC3one\n' +
        '[127.0.0.1]:40001,[lab01.example.com]:40001 ecdsa-sha2-nistp256 AAAAE2one\n',
    );
    assert.equal(proxiedKnownHosts([{ name: 'nokey.example.com', address: '127.0.0.1', port: 1 }], keys), '');
  });
});
