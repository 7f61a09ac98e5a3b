import { strict as assert } from 'node:assert';
import { mergeKnownHosts, parsePublicKey } from '../../../src/lab/known-hosts.js';

describe('lab/known-hosts', () => {
  const existing = [
    '# my hosts',
    'primary.example.com,10.213.0.11 ssh-ed25519 AAAAold1',
    'github.com ssh-ed25519 AAAAgithub',
    '[10.213.0.12]:22 ecdsa-sha2-nistp256 AAAAold2',
    '[10.213.0.12]:2222 ssh-ed25519 AAAAotherport',
    '|1|hashed=|salt= ssh-ed25519 AAAAhashed',
    '@cert-authority *.corp.test ssh-ed25519 AAAAca',
    '@revoked primary.example.com ssh-ed25519 AAAArevoked',
    '',
  ].join('\n');

  it('replaces the lines of the given names and addresses and keeps all others in order', () => {
    const out = mergeKnownHosts(existing, [
      {
        name: 'primary.example.com',
        ip: '10.213.0.11',
        keys: ['ssh-ed25519 AAAAnew1', 'ecdsa-sha2-nistp256 AAAAnew1e'],
      },
      { name: 'replica.example.com', ip: '10.213.0.12', keys: ['ssh-ed25519 AAAAnew2'] },
    ]);
    assert.equal(
      out,
      [
        '# my hosts',
        'github.com ssh-ed25519 AAAAgithub',
        '[10.213.0.12]:2222 ssh-ed25519 AAAAotherport',
        '|1|hashed=|salt= ssh-ed25519 AAAAhashed',
        '@cert-authority *.corp.test ssh-ed25519 AAAAca',
        '@revoked primary.example.com ssh-ed25519 AAAArevoked',
        'primary.example.com,10.213.0.11 ssh-ed25519 AAAAnew1',
        'primary.example.com,10.213.0.11 ecdsa-sha2-nistp256 AAAAnew1e',
        'replica.example.com,10.213.0.12 ssh-ed25519 AAAAnew2',
        '',
      ].join('\n'),
    );
  });

  it('forgets removed hosts and is stable when applied twice', () => {
    const once = mergeKnownHosts(existing, [], ['primary.example.com', '10.213.0.11']);
    assert.ok(!once.includes('AAAAold1'));
    assert.ok(once.includes('AAAAold2'));
    assert.equal(mergeKnownHosts(once, [], ['primary.example.com', '10.213.0.11']), once);
    assert.equal(mergeKnownHosts('', []), '');
  });

  it('reads keytype and key from a .pub file, dropping the comment', () => {
    assert.equal(
      parsePublicKey('ssh-ed25519 AAAAC3Nza+/= root@primary.example.com\n'),
      'ssh-ed25519 AAAAC3Nza+/=',
    );
    assert.equal(parsePublicKey('garbage'), undefined);
  });
});
