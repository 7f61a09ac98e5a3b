import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parseVerifier, scramVerifier, verifierMatches } from '../../../../src/sql/scram.js';
import { postgresRole } from '../../../../src/states/postgres/role.js';
import type { StepOutput } from '../../../../src/shell/protocol.js';
import { startTempPostgres, type TempPostgres } from '../../../helpers/temp-postgres.js';
import { applyPhase, checkPhase } from '../../../../src/engine/phases.js';
import { LocalConnection, testHost } from '../../../helpers/local-connection.js';
import { at, compileOne, runState, testCtx } from './helpers.js';
import { printedText } from '../../../helpers/print-content.js';

const HOSTILE = [
  'a"b',
  "x'; DROP ROLE postgres; --",
  '$(touch /tmp/orch-pwned)',
  'back\\slash `id`',
  'ünï cödé :var',
];
const PASSWORD = 'plain-Secret-4711';

function out(kv: Record<string, string>, status = 0): StepOutput {
  return { index: 0, status, kv, text: '' };
}

describe('postgres.role', () => {
  describe('generated scripts and check interpretation', () => {
    const ctx = testCtx();
    const compile = (a: Record<string, unknown>) =>
      compileOne('postgres.role', postgresRole, { socket_dir: '/run/pg', port: 5433, ...a }, ctx);

    it('never puts the plaintext password in check or apply scripts', () => {
      const c = compile({ name: 'app', login: true, password: PASSWORD });
      const s = c.states[0]!;
      const check = s.impl.check(s.args, s.prepared, ctx);
      const apply = s.impl.apply(s.args, s.prepared, { status: 'change', comment: '' }, ctx, {
        watchChanged: null,
      });
      for (const script of [check, apply])
        assert.ok(!script.includes(PASSWORD), 'plaintext leaked into a script');
      assert.match(printedText(apply), /PASSWORD 'SCRAM-SHA-256\$4096:/);
      assert.match(printedText(apply), /SET log_statement = 'none'/);
      assert.match(apply, /(printf '[^']*'|\}) \| orch_psql /m, 'SQL is piped into psql by printContent');
      assert.ok(!/psql[^\n]*-c/.test(apply), 'no SQL on argv');
    });

    it('quotes hostile names as identifiers and literals', () => {
      for (const name of HOSTILE) {
        const c = compile({ name, login: true });
        const s = c.states[0]!;
        const apply = printedText(
          s.impl.apply(s.args, s.prepared, { status: 'change', comment: '' }, ctx, { watchChanged: null }),
        );
        const ident = `"${name.replace(/"/g, '""')}"`;
        assert.ok(apply.includes(`CREATE ROLE ${ident} WITH LOGIN`), `identifier for ${name}`);
      }
    });

    it('reports unknown when PostgreSQL is not running or not installed, never clean', () => {
      const c = compile({ name: 'app', password: PASSWORD });
      const s = c.states[0]!;
      const interp = (kv: Record<string, string>) =>
        postgresRole.interpretCheck(s.args as never, s.prepared as never, out(kv), ctx, false);
      assert.equal(interp({ pg: 'down' }).status, 'unknown');
      assert.match(interp({ pg: 'down' }).comment, /not running; .* cannot be checked before it is started/);
      assert.equal(interp({ pg: 'missing' }).status, 'unknown');
      assert.equal(
        interp({
          pg: 'failed',
          rc: '2',
          error: 'psql: error: connection to server on socket "/x" failed: Connection refused',
        }).status,
        'unknown',
      );
      assert.equal(
        interp({ pg: 'failed', rc: '3', error: 'ERROR:  permission denied for table pg_authid' }).status,
        'error',
      );
    });

    it('compares passwords by recomputing the stored verifier', () => {
      const c = compile({ name: 'app', login: true, password: PASSWORD });
      const s = c.states[0]!;
      const row = (pw: string | null, login = true) =>
        JSON.stringify({
          rolcanlogin: login,
          rolreplication: false,
          rolsuper: false,
          rolcreatedb: false,
          rolcreaterole: false,
          rolinherit: true,
          rolconnlimit: -1,
          rolpassword: pw,
        });
      const interp = (result: string) =>
        postgresRole.interpretCheck(
          s.args as never,
          s.prepared as never,
          out({ pg: 'up', result }),
          ctx,
          false,
        );
      const same = scramVerifier(PASSWORD);
      assert.equal(interp(row(same)).status, 'clean');
      assert.deepEqual(interp(row(same)).plan, { verifiedPassword: same });
      assert.match(interp(row(scramVerifier('other'))).comment, /password differs/);
      assert.match(interp(row('md5' + '0'.repeat(32))).comment, /md5/);
      assert.match(interp(row(null)).comment, /no password set/);
      assert.match(interp(row(same, false)).comment, /login: false -> true/);
      assert.equal(interp('null').status, 'change');
      const changed = interp(row(scramVerifier('other')));
      assert.ok(!JSON.stringify(changed).includes('SCRAM-SHA-256$'), 'no verifier in the outcome text');
    });
  });

  describe('against a temp PostgreSQL 15', function () {
    this.timeout(120_000);
    let server: TempPostgres;
    let admin: pg.Client;

    before(async () => {
      server = await startTempPostgres();
      admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await server?.stop();
      rmSync('/tmp/orch-pwned', { force: true });
    });

    const stored = async (name: string) =>
      (
        await admin.query<{ rolpassword: string | null; rolcanlogin: boolean; rolreplication: boolean }>(
          'SELECT rolpassword, rolcanlogin, rolreplication FROM pg_authid WHERE rolname = $1',
          [name],
        )
      ).rows[0];
    const role = (a: Record<string, unknown>) =>
      compileOne('postgres.role', postgresRole, { ...at(server), ...a });

    it('creates a role, then re-checks clean; a new password is detected, applied, and re-checks clean', async () => {
      const first = await runState(
        role({ name: 'replicator', login: true, replication: true, password: PASSWORD }),
        true,
      );
      assert.equal(first.check.status, 'change');
      assert.equal(first.result!.status, 'changed', first.result!.comment);
      for (const s of first.scripts) assert.ok(!s.includes(PASSWORD));
      const row1 = (await stored('replicator'))!;
      assert.equal(row1.rolcanlogin, true);
      assert.equal(row1.rolreplication, true);
      assert.ok(verifierMatches(row1.rolpassword, PASSWORD));

      const again = await runState(
        role({ name: 'replicator', login: true, replication: true, password: PASSWORD }),
        true,
      );
      assert.equal(again.check.status, 'clean', again.check.comment);
      assert.equal(again.result!.status, 'clean');
      assert.equal(
        (await stored('replicator'))!.rolpassword,
        row1.rolpassword,
        'verifier untouched on a clean run',
      );

      const next = 'next-Secret-0815';
      const change = await runState(
        role({ name: 'replicator', login: true, replication: true, password: next }),
        true,
      );
      assert.equal(change.check.status, 'change');
      assert.match(change.check.comment, /password differs/);
      assert.equal(change.result!.status, 'changed');
      const row2 = (await stored('replicator'))!;
      assert.notEqual(row2.rolpassword, row1.rolpassword);
      assert.ok(verifierMatches(row2.rolpassword, next));
      assert.equal(parseVerifier(row2.rolpassword)!.iterations, 4096);
      assert.equal(
        (await runState(role({ name: 'replicator', password: next }), false)).check.status,
        'clean',
      );
    });

    it('changes only an attribute and keeps a matching password as it is', async () => {
      await runState(role({ name: 'attr_only', login: true, password: PASSWORD }), true);
      const before = (await stored('attr_only'))!.rolpassword;
      const r = await runState(role({ name: 'attr_only', login: false, password: PASSWORD }), true);
      assert.match(r.check.comment, /login: true -> false/);
      assert.equal(r.result!.status, 'changed');
      const after = (await stored('attr_only'))!;
      assert.equal(after.rolcanlogin, false);
      assert.equal(after.rolpassword, before);
    });

    it('stores hostile names literally and runs nothing they contain', async () => {
      for (const name of HOSTILE) {
        const r = await runState(role({ name, login: true, password: PASSWORD }), true);
        assert.equal(r.result!.status, 'changed', `${name}: ${r.result!.comment}`);
        assert.ok(await stored(name), `role ${name} exists`);
        assert.equal(
          (await runState(role({ name, login: true, password: PASSWORD }), false)).check.status,
          'clean',
        );
      }
      assert.equal(existsSync('/tmp/orch-pwned'), false);
      assert.ok(await stored('postgres'), 'postgres survived');
    });

    it('drops a role with ensure absent, and refuses to drop postgres', async () => {
      await admin.query('CREATE ROLE doomed');
      const r = await runState(role({ name: 'doomed', ensure: 'absent' }), true);
      assert.equal(r.check.status, 'change');
      assert.equal(r.result!.status, 'changed');
      assert.equal(await stored('doomed'), undefined);
      assert.equal((await runState(role({ name: 'doomed', ensure: 'absent' }), false)).check.status, 'clean');
      const pgr = await runState(role({ name: 'postgres', ensure: 'absent' }), true);
      assert.equal(pgr.check.status, 'error');
      assert.equal(pgr.result!.status, 'failed');
      assert.ok(await stored('postgres'));
    });

    it('keeps password statements out of the server log even with log_statement = all', async () => {
      await admin.query(`ALTER SYSTEM SET log_statement = 'all'`);
      await admin.query('SELECT pg_reload_conf()');
      try {
        await new Promise((r) => setTimeout(r, 300));
        const r = await runState(role({ name: 'logged', login: true, password: PASSWORD }), true);
        assert.equal(r.result!.status, 'changed');
        const log = readFileSync(path.join(server.dir, 'server.log'), 'utf8');
        assert.match(
          log,
          /statement: SELECT rolsuper AS orch_su/,
          'statements before the SET are logged, so logging is on',
        );
        assert.ok(!log.includes('SCRAM-SHA-256$'), 'no verifier in the server log');
        assert.ok(!log.includes(PASSWORD));
      } finally {
        await admin.query('ALTER SYSTEM RESET log_statement');
        await admin.query('SELECT pg_reload_conf()');
      }
    });

    for (const shell of ['bash --posix -s', 'busybox sh -s']) {
      it(`runs the same check and apply under ${shell}`, async function () {
        const bin = shell.split(' ')[0]!;
        if (!['/usr/bin', '/bin'].some((d) => existsSync(path.join(d, bin)))) this.skip();
        const conn = new LocalConnection(testHost());
        conn.runScript = (script) => conn.exec(shell, { stdin: script });
        const name = `shell_${bin}`;
        const c = role({ name, login: true, password: PASSWORD });
        const checks = await checkPhase(conn, c);
        assert.equal(checks[0]!.status, 'change', checks[0]!.comment);
        const res = await applyPhase(conn, c, checks);
        assert.equal(res[0]!.status, 'changed', res[0]!.comment);
        assert.equal(
          (await checkPhase(conn, role({ name, login: true, password: PASSWORD })))[0]!.status,
          'clean',
        );
      });
    }

    it('is unknown (not clean) when the server is not running', async () => {
      const r = await runState(role({ name: 'x', password: PASSWORD, port: server.port + 1 }), false);
      assert.equal(r.check.status, 'unknown', r.check.comment);
    });
  });
});
