// Regression tests: the redactor masks a secret in every encoding orch produces or a template commonly applies.
// Each case printed the secret (or its encoding) in clear before: the old redactor knew only the plain text, JSON,
// URL, .pgpass and single-quote escapes.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { pgpassFilter, sqlLiteralFilter } from '../../src/render/filters.js';
import { MASK, Redactor } from '../../src/secrets/redactor.js';
import { shQuote } from '../../src/shell/quote.js';
import { confValue } from '../../src/states/postgres/conf.js';
import { conninfoValue } from '../../src/pg/conninfo.js';

const SECRET = `Pa$s'w"o<r>d&\\:${randomBytes(4).toString('hex')} x`;

function masked(secret: string, text: string, r = new Redactor()): string {
  r.add(secret);
  return r.redact(text);
}

/** The text with the secret's own encoding replaced must show the mask and not the encoding. */
function assertMasked(encoding: string, secret = SECRET): void {
  const out = masked(secret, `before ${encoding} after`);
  assert.ok(!out.includes(encoding), `not masked: ${out}`);
  assert.ok(out.includes(MASK), out);
}

describe('security: the redactor masks every encoding of a secret', () => {
  it('base64, padded and unpadded', () => {
    const b64 = Buffer.from(SECRET).toString('base64');
    assert.match(b64, /=$/, 'the test secret must need padding');
    assertMasked(b64);
    assertMasked(b64.replace(/=+$/, ''));
  });

  it('base64url', () => {
    // A secret whose base64 holds + and / so base64url differs from base64.
    const secret = '\u00fb\u00ef\u00bf>>>?secret??';
    const url = Buffer.from(secret).toString('base64url');
    assert.notEqual(url, Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    assertMasked(url, secret);
  });

  it('base64 of a larger blob, at each of the 3 byte alignments', () => {
    const secret = 'replication-password-1234';
    for (const prefix of ['', 'a', 'ab', 'abc', 'user=x;pw=']) {
      const blob = Buffer.from(`${prefix}${secret};trailing data`).toString('base64');
      const out = masked(secret, blob);
      assert.ok(out.includes(MASK), `prefix ${JSON.stringify(prefix)}: ${out}`);
      // What is left around the mask does not decode to the secret.
      assert.ok(!Buffer.from(out.replace(MASK, ''), 'base64').toString('latin1').includes(secret));
    }
  });

  it('hex, lower and upper case', () => {
    const hex = Buffer.from(SECRET).toString('hex');
    assertMasked(hex);
    assertMasked(hex.toUpperCase());
  });

  it('HTML/XML escaping (&amp; &lt; &gt; &quot; &#39; &apos;)', () => {
    const esc = (apos: string) =>
      SECRET.replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, apos);
    assertMasked(esc('&#39;'));
    assertMasked(esc('&apos;'));
  });

  it('upper case', () => {
    assertMasked(SECRET.toUpperCase());
  });

  const quotings: [string, (s: string) => string][] = [
    ['conninfo value (conninfoValue)', conninfoValue],
    ['postgresql.conf value (confValue)', (v) => confValue(v)],
    ['.pgpass field', pgpassFilter],
    ['SQL literal', sqlLiteralFilter],
    ['shell word', shQuote],
  ];
  for (const [what, quote] of quotings) {
    it(`orch's own quoting: ${what}`, () => {
      const quoted = quote(SECRET);
      const out = masked(SECRET, `primary_conninfo = ${quoted}`);
      // The quotes may stay; nothing between them does.
      assert.ok(out.includes(MASK), `${quoted} -> ${out}`);
      assert.ok(!out.includes('Pa$s') && !/w\\?"o/.test(out) && !out.includes(' x'), `${quoted} -> ${out}`);
    });
  }

  it('a multi-line secret (PEM key) is masked line by line', () => {
    const body = randomBytes(96).toString('base64');
    const pem = `-----BEGIN PRIVATE KEY-----\n${body.slice(0, 64)}\n${body.slice(64)}\n-----END PRIVATE KEY-----\n`;
    const r = new Redactor();
    r.add(pem);
    const diff = pem
      .split('\n')
      .map((l) => `+${l}`)
      .join('\n');
    const out = r.redact(diff);
    assert.ok(!out.includes(body.slice(0, 64)) && !out.includes(body.slice(64)), out);
    assert.equal(r.redact(pem.replace(/\n/g, '\r\n')).includes(body.slice(0, 20)), false);
  });

  it('keeps the longest match and leaves other text alone', () => {
    const r = new Redactor();
    r.add('abcd1234');
    r.add('abcd1234efgh');
    assert.equal(r.redact('x abcd1234efgh y abcd1234 z'), `x ${MASK} y ${MASK} z`);
    assert.equal(r.redact('nothing secret here'), 'nothing secret here');
  });
});
