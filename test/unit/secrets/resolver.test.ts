import { strict as assert } from 'node:assert';
import { OrchError } from '../../../src/errors.js';
import { encryptValue } from '../../../src/secrets/crypto.js';
import { MASK, redactor } from '../../../src/secrets/redactor.js';
import { SecretRef } from '../../../src/secrets/ref.js';
import { defaultResolver } from '../../../src/secrets/resolver.js';
import { envWith, newKey, tempProject, type TempProject } from './helpers.js';

describe('secrets/resolver', () => {
  let t: TempProject;
  beforeEach(() => {
    t = tempProject([]);
  });
  afterEach(() => t.cleanup());

  const where = { host: 'replica.example.com', keyPath: 'postgres.replication.password', file: '' };

  it('decrypts and registers the plaintext in the redactor before returning it', async () => {
    const k = await newKey();
    const secret = `repl-${Date.now()}-pw`;
    const resolver = defaultResolver(t.project, envWith([k.identity]));
    const value = await resolver.decrypt(new SecretRef(await encryptValue(secret, [k.recipient])), where);
    assert.equal(value, secret);
    assert.equal(redactor.redact(`PGPASSWORD=${secret}`), `PGPASSWORD=${MASK}`);
  });

  it('fails closed with a message naming key, host and file but no plaintext or ciphertext', async () => {
    const right = await newKey();
    const wrong = await newKey();
    const secret = 'never-show-this-one';
    const ct = await encryptValue(secret, [right.recipient]);
    const resolver = defaultResolver(t.project, envWith([wrong.identity]));
    const file = `${t.dir}/pillar/postgres.yaml`;
    await assert.rejects(resolver.decrypt(new SecretRef(ct), { ...where, file }), (err: unknown) => {
      assert.ok(err instanceof OrchError);
      assert.equal(err.code, 'SECRET_ERROR');
      assert.match(
        err.message,
        /^cannot decrypt pillar key 'postgres\.replication\.password' for host replica\.example\.com \(pillar\/postgres\.yaml\): encrypted to other recipients/,
      );
      assert.ok(!err.message.includes(secret));
      assert.ok(!err.message.includes(ct) && !err.message.includes(ct.slice(30, 60)));
      return true;
    });
  });

  it('fails closed without an identity, on malformed ciphertext, double encryption and short values', async () => {
    const k = await newKey();
    const none = defaultResolver(t.project, { XDG_CONFIG_HOME: `${t.dir}/no-such-config` });
    const ct = await encryptValue('some-long-secret', [k.recipient]);
    await assert.rejects(
      none.decrypt(new SecretRef(ct), where),
      /for host replica\.example\.com: no age identity/,
    );

    const resolver = defaultResolver(t.project, envWith([k.identity]));
    await assert.rejects(resolver.decrypt(new SecretRef('%%%'), where), /: malformed ciphertext/);
    const inner = await encryptValue('inner-secret', [k.recipient]);
    const doubled = await encryptValue(inner, [k.recipient]);
    await assert.rejects(resolver.decrypt(new SecretRef(doubled), where), /itself age ciphertext/);
    const short = await encryptValue('abc', [k.recipient]);
    await assert.rejects(resolver.decrypt(new SecretRef(short), where), /cannot be masked/);
  });

  it('loads identities once and caches per ciphertext', async () => {
    const k = await newKey();
    const env = envWith([k.identity]);
    const resolver = defaultResolver(t.project, env);
    const ct1 = await encryptValue('first-secret', [k.recipient]);
    const ct2 = await encryptValue('second-secret', [k.recipient]);
    const [a, b] = await Promise.all([
      resolver.decrypt(new SecretRef(ct1), where),
      resolver.decrypt(new SecretRef(ct1), { ...where, host: 'other.example.com' }),
    ]);
    assert.equal(a, 'first-secret');
    assert.equal(b, 'first-secret');
    // The identity source is read once per resolver: dropping it now changes nothing.
    delete env.ORCH_AGE_IDENTITY;
    assert.equal(await resolver.decrypt(new SecretRef(ct2), where), 'second-secret');
  });
});
