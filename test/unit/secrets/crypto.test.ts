import { strict as assert } from 'node:assert';
import { Encrypter } from 'age-encryption';
import {
  DecryptError,
  decryptValue,
  encryptValue,
  looksLikeAgeCiphertext,
} from '../../../src/secrets/crypto.js';
import { newKey } from './helpers.js';

describe('secrets/crypto', () => {
  it('round-trips a value as one base64 line', async () => {
    const k = await newKey();
    const secret = 'correct horse battery staple\nsecond line ünïcode';
    const ct = await encryptValue(secret, [k.recipient]);
    assert.match(ct, /^[A-Za-z0-9+/]+=*$/);
    assert.ok(!ct.includes(secret));
    assert.equal(await decryptValue(ct, [k.identity]), secret);
  });

  it('encrypts to several recipients, each of which can decrypt alone', async () => {
    const a = await newKey();
    const b = await newKey();
    const ct = await encryptValue('shared-secret', [a.recipient, b.recipient]);
    assert.equal(await decryptValue(ct, [a.identity]), 'shared-secret');
    assert.equal(await decryptValue(ct, [b.identity]), 'shared-secret');
  });

  it('tries every identity given', async () => {
    const a = await newKey();
    const b = await newKey();
    const ct = await encryptValue('only-for-b', [b.recipient]);
    assert.equal(await decryptValue(ct, [a.identity, b.identity]), 'only-for-b');
  });

  it('rejects a wrong identity with a reason that holds no data', async () => {
    const a = await newKey();
    const b = await newKey();
    const ct = await encryptValue('for-a-only', [a.recipient]);
    await assert.rejects(decryptValue(ct, [b.identity]), (err: unknown) => {
      assert.ok(err instanceof DecryptError);
      assert.equal(err.code, 'SECRET_ERROR');
      assert.match(err.reason, /other recipients/);
      assert.ok(!err.message.includes(ct) && !err.message.includes('for-a-only'));
      return true;
    });
  });

  it('rejects malformed and tampered ciphertext', async () => {
    const k = await newKey();
    await assert.rejects(decryptValue('not base64 !!', [k.identity]), /not base64/);
    await assert.rejects(decryptValue('aGVsbG8gd29ybGQh', [k.identity]), /not an age file/);
    const ct = await encryptValue('tamper-me', [k.recipient]);
    const bytes = Buffer.from(ct, 'base64');
    bytes[bytes.length - 2]! ^= 1;
    await assert.rejects(decryptValue(bytes.toString('base64'), [k.identity]), /malformed or tampered/);
  });

  it('refuses a plaintext that is itself age ciphertext', async () => {
    const k = await newKey();
    const inner = await encryptValue('inner-secret', [k.recipient]);
    const outer = await encryptValue(inner, [k.recipient]);
    await assert.rejects(decryptValue(outer, [k.identity]), /itself age ciphertext/);
    assert.ok(looksLikeAgeCiphertext(inner));
    assert.ok(!looksLikeAgeCiphertext('plain password'));
  });

  it('refuses a plaintext that is not UTF-8', async () => {
    const k = await newKey();
    const e = new Encrypter();
    e.addRecipient(k.recipient);
    const ct = Buffer.from(await e.encrypt(new Uint8Array([0xff, 0xfe, 0x41, 0x42]))).toString('base64');
    await assert.rejects(decryptValue(ct, [k.identity]), /not valid UTF-8/);
  });

  it('fails without identities or recipients', async () => {
    await assert.rejects(decryptValue('YWdl', []), /no age identity/);
    await assert.rejects(encryptValue('some-value', []), /no recipients/);
    await assert.rejects(encryptValue('some-value', ['age1nope']), /invalid recipient/);
  });
});
