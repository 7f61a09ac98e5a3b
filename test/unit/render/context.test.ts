import { strict as assert } from 'node:assert';
import { OrchError } from '../../../src/errors.js';
import { buildRenderContext, getterFor, strictContext, unwrapStrict } from '../../../src/render/context.js';
import { SecretRef } from '../../../src/secrets/ref.js';
import { samplePillar } from './helpers.js';

const HOST = 'replica.example.com';

function thrown(fn: () => unknown): OrchError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OrchError, String(err));
    return err;
  }
  assert.fail('expected an OrchError');
}

describe('render/context', () => {
  it('a missing key names the full dotted path and the host', () => {
    const pillar = strictContext(samplePillar(), 'pillar', HOST) as {
      postgres: { replication: Record<string, unknown> };
    };
    assert.equal(pillar.postgres.replication.user, 'replicator');
    const err = thrown(() => pillar.postgres.replication.passwd);
    assert.equal(err.code, 'PILLAR_MISSING_KEY');
    assert.equal(
      err.message,
      "pillar key 'postgres.replication.passwd' is not defined for host replica.example.com",
    );
  });

  it('list indexes beyond the end are missing keys too', () => {
    const pillar = strictContext(samplePillar(), 'pillar', HOST) as { postgres: { standbys: unknown[] } };
    assert.equal(pillar.postgres.standbys.length, 2);
    assert.equal(
      thrown(() => pillar.postgres.standbys[2]).message,
      "pillar key 'postgres.standbys.2' is not defined for host replica.example.com",
    );
  });

  it('behaves like the plain data for iteration, JSON and equality of contents', () => {
    const data = samplePillar();
    const pillar = strictContext(data, 'pillar', HOST);
    assert.equal(JSON.stringify(pillar), JSON.stringify(data));
    assert.deepEqual(Object.keys(pillar), ['postgres']);
    assert.equal(unwrapStrict(pillar), data);
    assert.equal('postgres' in pillar, true);
    assert.equal('nope' in pillar, false, '`in` never throws');
  });

  it('refuses to hand out an undecrypted secret', () => {
    const pillar = strictContext({ db: { password: new SecretRef('abc') } }, 'pillar', HOST) as {
      db: { password: unknown };
    };
    const err = thrown(() => pillar.db.password);
    assert.equal(err.code, 'SECRET_ERROR');
    assert.match(
      err.message,
      /pillar key 'db\.password' is an encrypted secret that was not decrypted for host replica\.example\.com/,
    );
    assert.doesNotMatch(err.message, /abc/);
  });

  it('pillar_get reads colon paths with defaults; without a default a missing key throws', () => {
    const get = getterFor(samplePillar(), 'pillar', HOST);
    assert.equal(get('postgres:port'), 5432);
    assert.equal(get('postgres:standbys:1:address'), '10.213.0.13');
    assert.equal(get('postgres:hba:extra', 'none'), 'none');
    assert.equal(get('postgres:port:deeper', null), null);
    assert.equal(get('nothing', undefined), undefined, 'an explicit undefined default is a default');
    assert.equal(
      thrown(() => get('postgres:hba')).message,
      "pillar key 'postgres.hba' is not defined for host replica.example.com",
    );
    const sub = get('postgres:replication') as Record<string, unknown>;
    assert.equal(
      thrown(() => sub.nope).message,
      "pillar key 'postgres.replication.nope' is not defined for host replica.example.com",
    );
  });

  it('builds one context per host with strict pillar, facts and vars', () => {
    const ctx = buildRenderContext({
      host: HOST,
      pillar: samplePillar(),
      facts: { osFamily: 'Debian' },
      vars: { role: 'replica' },
    });
    assert.equal(ctx.host, HOST);
    assert.equal((ctx.facts as Record<string, unknown>).osFamily, 'Debian');
    assert.match(
      thrown(() => (ctx.facts as Record<string, unknown>).kernel).message,
      /^facts key 'kernel' is not defined for host/,
    );
    assert.match(thrown(() => (ctx.vars as Record<string, unknown>).zone).message, /^vars key 'zone'/);
    assert.equal((ctx.facts_get as (k: string, d?: unknown) => unknown)('init', 'unknown'), 'unknown');
  });
});
