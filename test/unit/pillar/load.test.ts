import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { InputError, OrchError } from '../../../src/errors.js';
import { loadInventory } from '../../../src/inventory/load.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import type { Facts } from '../../../src/facts/types.js';
import { compilePillar, findSecrets, loadTop, pillarNamesFor } from '../../../src/pillar/load.js';
import { SecretRef } from '../../../src/secrets/ref.js';
import { fakeResolver, fixtureRoot, projectAt, tempProject } from './helpers.js';

const project = projectAt(fixtureRoot);
const inv = loadInventory(project);
const host = (name: string): HostSpec => inv.hosts.get(name)!;

async function rejection(p: Promise<unknown>): Promise<OrchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OrchError, String(err));
    return err;
  }
  assert.fail('expected a rejection');
}

describe('pillar/load', () => {
  it('matches top.yaml targets (names, globs, comma lists, groups) in top order, each file once', () => {
    const top = loadTop(project);
    const names = (h: string) => pillarNamesFor(top, host(h)).map((n) => n.name);
    assert.deepEqual(names('primary.example.com'), ['common', 'postgres.common', 'postgres.primary']);
    assert.deepEqual(names('replica.example.com'), ['common', 'postgres.common', 'postgres.replica']);
    assert.deepEqual(names('web1.example.com'), ['common', 'postgres.replica', 'web']);
    assert.deepEqual(names('bare.example.com'), ['common']);
  });

  it('renders each file for the host, then deep-merges in top order (later wins, lists replaced)', async () => {
    const pillar = await compilePillar(project, host('primary.example.com'));
    const pg = pillar.postgres as Record<string, unknown>;
    assert.equal(pillar.motd, 'Welcome to primary.example.com');
    assert.deepEqual(pillar.ntp, { servers: ['ntp.db.example.com'], driftfile: '/var/lib/ntp/drift' });
    assert.equal(pg.port, 5433, 'rendered from the host vars');
    assert.equal(pg.version, '15');
    assert.equal(pg.role, 'primary');
    assert.deepEqual(pg.listen, ['localhost', '10.213.0.11'], 'a later list replaces the earlier one');
    assert.deepEqual(pg.standbys, ['replica.example.com']);
    assert.ok(
      (pg.replication as Record<string, unknown>).password instanceof SecretRef,
      'no resolver: left encrypted',
    );
    assert.equal(findSecrets(pillar).length, 2);
  });

  it('passes facts to pillar templates when given', async () => {
    const without = await compilePillar(project, host('replica.example.com'));
    assert.equal((without.postgres as Record<string, unknown>).os, 'unknown');
    const facts = { osFamily: 'Debian' } as Facts;
    const withFacts = await compilePillar(project, host('replica.example.com'), { facts });
    assert.equal((withFacts.postgres as Record<string, unknown>).os, 'Debian');
  });

  it('decrypts every secret through the resolver with key path, host and file', async () => {
    const resolver = fakeResolver((ref) =>
      ref.ciphertext.length % 2 ? 'odd-length-plaintext' : 'even-length-plaintext',
    );
    const pillar = await compilePillar(project, host('replica.example.com'), { resolver });
    const pg = pillar.postgres as { replication: { password: unknown }; app: { password: unknown } };
    assert.equal(typeof pg.replication.password, 'string');
    assert.match(String(pg.replication.password), /length-plaintext$/);
    const calls = resolver.calls
      .map(({ keyPath, host: h, file }) => ({ keyPath, host: h, file }))
      .sort((a, b) => a.keyPath.localeCompare(b.keyPath));
    assert.deepEqual(calls, [
      { keyPath: 'postgres.app.password', host: 'replica.example.com', file: 'pillar/postgres/common.yaml' },
      {
        keyPath: 'postgres.replication.password',
        host: 'replica.example.com',
        file: 'pillar/postgres/common.yaml',
      },
    ]);
  });

  it('an empty pillar when there is no top.yaml', async () => {
    const root = tempProject({ 'inventory/hosts.yaml': 'hosts:\n  a.example.com: {}\n' });
    try {
      const p = projectAt(root);
      assert.deepEqual(await compilePillar(p, loadInventory(p).hosts.get('a.example.com')!), {});
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('errors name the file and line: missing pillar file, bad top, missing var, non-mapping file', async () => {
    const root = tempProject({
      'inventory/hosts.yaml': 'hosts:\n  a.example.com: { groups: [g] }\n',
      'pillar/top.yaml': "'*':\n  - ok\ngroup:g:\n  - not.there\n",
      'pillar/ok.yaml': 'x: 1\n',
    });
    try {
      const p = projectAt(root);
      const a = loadInventory(p).hosts.get('a.example.com')!;
      const missing = await rejection(compilePillar(p, a));
      assert.ok(missing instanceof InputError);
      assert.equal(
        missing.message,
        'pillar/top.yaml:3: pillar file not.there not found (looked for pillar/not/there.yaml and pillar/not/there.sls)',
      );

      const bad = tempProject({ 'pillar/top.yaml': "'*': [../etc/passwd]\n" });
      const badTop = await rejection(compilePillar(projectAt(bad), a));
      assert.match(
        badTop.message,
        /^pillar\/top\.yaml:1: \*\[0\]: expected a pillar name like postgres\.common/,
      );
      rmSync(bad, { recursive: true, force: true });

      const tmpl = tempProject({
        'pillar/top.yaml': "'*': [t]\n",
        'pillar/t.yaml': 'a: 1\nb: {{ vars.zone }}\n',
      });
      const undefVar = await rejection(compilePillar(projectAt(tmpl), a));
      assert.equal(undefVar.code, 'PILLAR_MISSING_KEY');
      assert.equal(
        undefVar.message,
        "pillar/t.yaml:2: vars key 'zone' is not defined for host a.example.com",
      );
      rmSync(tmpl, { recursive: true, force: true });

      const list = tempProject({ 'pillar/top.yaml': "'*': [l]\n", 'pillar/l.yaml': '- a\n- b\n' });
      assert.match(
        (await rejection(compilePillar(projectAt(list), a))).message,
        /pillar\/l\.yaml: a pillar file must be a mapping/,
      );
      rmSync(list, { recursive: true, force: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a decrypted secret too short to mask', async () => {
    const err = await rejection(
      compilePillar(project, host('primary.example.com'), { resolver: fakeResolver(() => 'abc') }),
    );
    assert.equal(err.code, 'SECRET_ERROR');
    assert.match(
      err.message,
      /pillar key 'postgres\.(replication|app)\.password' for host primary\.example\.com: secret too short/,
    );
  });
});
