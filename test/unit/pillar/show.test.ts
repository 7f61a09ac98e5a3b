import { strict as assert } from 'node:assert';
import yaml from 'js-yaml';
import { loadInventory } from '../../../src/inventory/load.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { formatPillar, maskSecrets, MASK } from '../../../src/pillar/show.js';
import { redactor } from '../../../src/secrets/redactor.js';
import { SecretRef } from '../../../src/secrets/ref.js';
import { fakeResolver, fixtureRoot, projectAt } from './helpers.js';

describe('pillar/show', () => {
  const project = projectAt(fixtureRoot);
  const primary = loadInventory(project).hosts.get('primary.example.com')!;

  it('decrypted secrets are registered in the redactor and masked by maskSecrets', async () => {
    const secret = `s3cr3t-${process.pid}-${Date.now()}`;
    assert.equal(redactor.redact(`x ${secret} y`), `x ${secret} y`, 'not registered before');
    const pillar = await compilePillar(project, primary, { resolver: fakeResolver(() => secret) });
    const pg = pillar.postgres as { replication: { password: string; user: string } };
    assert.equal(pg.replication.password, secret, 'the compiled pillar holds the plaintext for rendering');
    assert.equal(redactor.redact(`x ${secret} y`), `x ${MASK} y`);

    const masked = maskSecrets(pillar) as typeof pillar;
    const mpg = masked.postgres as { replication: { password: string; user: string }; port: number };
    assert.equal(mpg.replication.password, MASK);
    assert.equal(mpg.replication.user, 'replicator');
    assert.equal(mpg.port, 5433);
    assert.equal(pg.replication.password, secret, 'maskSecrets returns a copy');
    for (const format of ['yaml', 'json'] as const)
      assert.doesNotMatch(formatPillar(pillar, format), new RegExp(secret));
  });

  it('shows undecrypted SecretRefs as <secret>, never the ciphertext', async () => {
    const pillar = await compilePillar(project, primary);
    const text = formatPillar(pillar, 'yaml');
    const parsed = yaml.load(text) as { postgres: { replication: { password: string } } };
    assert.equal(parsed.postgres.replication.password, '<secret>');
    assert.doesNotMatch(text, /YWdlLWVuY3J5cHRpb24/);
    assert.deepEqual(maskSecrets({ a: [new SecretRef('zzz')] }), { a: ['<secret>'] });
    assert.equal(formatPillar({}, 'yaml'), '{}\n');
  });
});
