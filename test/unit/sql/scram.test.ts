// SCRAM verifiers against a real PostgreSQL 15: the server's own verifiers must match our recomputation, and the
// server must accept (and authenticate with) verifiers we computed.
import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../../src/sql/quote.js';
import { parseVerifier, saslprep, scramVerifier, verifierMatches } from '../../../src/sql/scram.js';
import { startTempPostgres, type TempPostgres } from '../../helpers/temp-postgres.js';

describe('sql/scram', () => {
  describe('pure', () => {
    it('produces the RFC 7677 test vector keys for user/pencil with the RFC salt', () => {
      // RFC 7677 section 3: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
      const v = scramVerifier('pencil', {
        salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
        iterations: 4096,
      });
      // ServerSignature in the RFC is HMAC(ServerKey, AuthMessage); the keys themselves are checked through it.
      const parsed = parseVerifier(v)!;
      const authMessage =
        'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
      const serverSig = createHmac('sha256', parsed.serverKey).update(authMessage).digest('base64');
      assert.equal(serverSig, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
      assert.match(
        v,
        /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/,
      );
    });

    it('uses a fresh 16-byte salt and 4096 iterations by default', () => {
      const a = parseVerifier(scramVerifier('secret-pw'))!;
      const b = parseVerifier(scramVerifier('secret-pw'))!;
      assert.equal(a.iterations, 4096);
      assert.equal(a.salt.length, 16);
      assert.notDeepEqual(a.salt, b.salt);
    });

    it('parses only well-formed SCRAM-SHA-256 verifiers', () => {
      assert.equal(parseVerifier(null), null);
      assert.equal(parseVerifier('md5' + 'a'.repeat(32)), null);
      assert.equal(parseVerifier('SCRAM-SHA-256$4096:c2FsdA==$short:short'), null);
      assert.equal(parseVerifier('plaintext'), null);
      assert.ok(parseVerifier(scramVerifier('x', { iterations: 10 })));
    });

    it('verifierMatches recomputes with the stored salt and iterations', () => {
      const v = scramVerifier('correct horse', { iterations: 1000 });
      assert.equal(verifierMatches(v, 'correct horse'), true);
      assert.equal(verifierMatches(v, 'correct horsE'), false);
      assert.equal(verifierMatches('md5abc', 'correct horse'), false);
      assert.equal(verifierMatches(null, 'correct horse'), false);
    });

    it('SASLprep: ASCII verbatim, NFKC and space mapping otherwise, raw on prohibited characters', () => {
      assert.equal(saslprep('a\tb'), 'a\tb');
      assert.equal(saslprep('\u2168'), 'IX');
      assert.equal(saslprep('a\u00a0b'), 'a b');
      assert.equal(saslprep('a\u00adb\u00e9'), 'ab\u00e9');
      assert.equal(saslprep('e\u0301'), '\u00e9');
      assert.equal(saslprep('\u00e9\u0007'), '\u00e9\u0007');
      assert.equal(saslprep('\u00ad'), '\u00ad');
    });
  });

  describe('against PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;

    before(async () => {
      server = await startTempPostgres();
      // Password auth over TCP for the roles we log in as; everything else stays trust for the test's admin.
      writeFileSync(
        path.join(server.dataDir, 'pg_hba.conf'),
        'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
      );
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      await admin.query('SELECT pg_reload_conf()');
      await admin.query(`SET password_encryption = 'scram-sha-256'`);
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
    });

    async function storedVerifier(role: string): Promise<string> {
      const r = await admin.query<{ rolpassword: string }>(
        'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
        [role],
      );
      return r.rows[0]!.rolpassword;
    }

    async function canLogin(role: string, password: string): Promise<boolean> {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: server.port,
        user: role,
        password,
        database: 'postgres',
      });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch (err) {
        if (/password authentication failed/.test((err as Error).message)) return false;
        throw err;
      } finally {
        await c.end().catch(() => {});
      }
    }

    const passwords = [
      'p',
      'hunter2 with spaces',
      "quo'te\\back",
      'p\u00e4ssw\u00f6rd',
      '\u2168-roman',
      'nb\u00a0sp\u00e9',
      'e\u0301accent',
    ];

    passwords.forEach((pw, i) => {
      it(`matches the server's own verifier for password #${i}`, async () => {
        const role = `srv_${i}`;
        await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(pw)}`);
        const stored = await storedVerifier(role);
        assert.match(stored, /^SCRAM-SHA-256\$4096:/);
        assert.equal(verifierMatches(stored, pw), true);
        assert.equal(verifierMatches(stored, `${pw}x`), false);
        // Same salt and iterations give the exact same string the server stored.
        const p = parseVerifier(stored)!;
        assert.equal(scramVerifier(pw, { salt: p.salt, iterations: p.iterations }), stored);
      });

      it(`the server accepts our verifier for password #${i} and authenticates with it`, async () => {
        const role = `ours_${i}`;
        const v = scramVerifier(pw);
        await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(v)}`);
        assert.equal(await storedVerifier(role), v, 'stored as sent, not re-hashed');
        assert.equal(await canLogin(role, pw), true);
        assert.equal(await canLogin(role, `${pw}-wrong`), false);
      });
    });
  });
});
