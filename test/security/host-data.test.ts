// Values read from a host are data: pg_make_replica --check (what apply --test and drift run) with a fake psql,
// pg_ctl and df answering `a[$(touch <marker>)]` and other non-numbers. Under bash, $((x)) with such an x runs the
// command; the script must refuse with a clear message instead, on every shell, and never pass the text on.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shQuote } from '../../src/shell/quote.js';
import { renderReplicaScript, sampleInput } from '../unit/states/postgres/replica-helpers.js';

const SHELLS = ['bash', 'dash', 'bash --posix', 'busybox sh'];

interface Fake {
  /** What the primary answers for the database size query. */
  kb?: string;
  /** What df prints as available KB. */
  free?: string;
  /** The primary's whole answer to the one session (stdout), instead of well-formed lines. */
  session?: string;
  /** The session fails after its first answers: psql's message on stderr, exit 2. */
  sessionError?: string;
  /** pg_ctl status says a server runs on the data dir, whose postmaster.pid has these lines 4 and 5. */
  pid?: { port: string; host: string };
}

describe('security: pg_make_replica treats host output as data', function () {
  this.timeout(120_000);
  if (process.getuid?.() !== 0) {
    it.skip('needs root (pg_make_replica refuses to run otherwise)');
    return;
  }
  let dir: string;
  let marker: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-hostdata-'));
    marker = path.join(dir, 'pwned');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const payload = () => `a[$(touch ${marker})]`;

  function tool(bin: string, name: string, body: string): void {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  }

  /** Render the script against fake tools in `dir` and run it with `shell`; returns status, output, psql calls. */
  function run(
    shell: string,
    fake: Fake,
    ...flags: string[]
  ): { status: number | null; out: string; psql: string } {
    const bin = path.join(dir, 'bin');
    const data = path.join(dir, 'data');
    const log = path.join(dir, 'psql.log');
    mkdirSync(bin, { recursive: true });
    tool(
      bin,
      'psql',
      `printf '%s\\n' "$*" >> ${shQuote(log)}
# The SQL comes on stdin (orch_psql). The primary is asked everything in one session: one tagged line per
# query, then IDENTIFY_SYSTEM's row.
last=$(cat)
case $last in
  *IDENTIFY_SYSTEM*)
    ${
      fake.sessionError !== undefined
        ? `printf 'rec|f\\ncfg|150005|replica|10|10|0|0|0|0|0\\n'; printf '%s\\n' ${shQuote(fake.sessionError)} >&2; exit 2`
        : fake.session !== undefined
          ? `printf '%s\\n' ${shQuote(fake.session)}`
          : `printf 'rec|f\\ncfg|150005|replica|10|10|0|0|0|0|0\\nslot|\\nkb|%s\\n7000000000000000001|1|0/3000000|\\n' ${shQuote(fake.kb ?? '1024')}`
    } ;;
  *pg_is_in_recovery*) echo f ;;
esac`,
    );
    tool(bin, 'pg_ctl', fake.pid ? 'exit 0' : 'exit 3');
    tool(bin, 'postgres', 'echo "postgres (PostgreSQL) 15.5"');
    tool(bin, 'pg_controldata', 'exit 0');
    tool(bin, 'pg_basebackup', `touch ${shQuote(marker)}.basebackup; exit 1`);
    tool(
      bin,
      'df',
      `printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/x 1 1 %s 1%% /\\n' ${shQuote(fake.free ?? '99999999')}`,
    );
    if (fake.pid) {
      mkdirSync(data, { recursive: true });
      writeFileSync(
        path.join(data, 'postmaster.pid'),
        `1\n${data}\n0\n${fake.pid.port}\n${fake.pid.host}\n127.0.0.1\n`,
      );
    }
    const pgpass = path.join(dir, 'pgpass');
    writeFileSync(pgpass, '*:*:*:*:x\n', { mode: 0o600 });
    const script = renderReplicaScript(
      sampleInput({
        dataDir: data,
        binDir: bin,
        pgUser: 'root',
        pgGroup: 'root',
        pgpass,
        serviceStatus: ['false'],
      }),
    );
    const [cmd, ...args] = shell.split(' ');
    const r = spawnSync(cmd!, [...args, '-s', '--', ...flags], {
      input: script,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      timeout: 60_000,
    });
    const psql = existsSync(log) ? readFileSync(log, 'utf8') : '';
    return { status: r.status, out: `${r.stdout}${r.stderr}`, psql };
  }

  for (const shell of SHELLS) {
    describe(`under ${shell}`, () => {
      it('plans a rebuild from well-formed answers (exit 10), so the checks below refuse for the right reason', () => {
        const r = run(shell, {}, '--check');
        assert.equal(r.status, 10, r.out);
        assert.match(r.out, /step preflight: disk: \d+ MB free, need 101 MB/);
      });

      for (const flags of [['--check'], []]) {
        it(`${flags.join(' ') || 'apply'}: a database size of a[$(cmd)] is refused and never evaluated`, () => {
          const r = run(shell, { kb: payload() }, ...flags);
          assert.equal(existsSync(marker), false, `the primary's answer ran as code:\n${r.out}`);
          assert.equal(r.status, 3, r.out);
          assert.match(
            r.out,
            /refused: unexpected database size from the primary \(not a number of KB\): a\[\$\(touch /,
          );
          assert.equal(existsSync(`${marker}.basebackup`), false);
        });
      }

      for (const kb of ['-1', '0x10', '1e3', ' 12', '12 ', '1+1', '99999999999999999999', '']) {
        it(`--check: a database size of ${JSON.stringify(kb)} is refused`, () => {
          const r = run(shell, { kb }, '--check');
          assert.equal(r.status, 3, r.out);
          assert.match(r.out, /refused: unexpected database size from the primary/);
        });
      }

      it('--check: an answer from the primary that is not one tagged line per question is refused', () => {
        const id = '7000000000000000001|1|0/3000000|';
        const cfg = 'cfg|150005|replica|10|10|0|0|0|0|0';
        for (const session of [
          // A value holding a line break that tries to answer the next question itself.
          ['rec|f', cfg, 'slot|physical|active||0/1\nkb|1', 'kb|1024', id].join('\n'),
          // A line more after IDENTIFY_SYSTEM's row, a line missing, a tag missing.
          ['rec|f', cfg, 'slot|', 'kb|1024', id, id].join('\n'),
          ['rec|f', cfg, 'slot|', id].join('\n'),
          ['rec|f', cfg.slice(4), 'slot|', 'kb|1024', id].join('\n'),
          `${['rec|f', cfg, 'slot|', 'kb|1024'].join('\n')}\nkb|${payload()}\n${id}`,
        ]) {
          const r = run(shell, { session }, '--check');
          assert.equal(existsSync(marker), false, r.out);
          assert.equal(r.status, 3, r.out);
          assert.match(r.out, /refused: unexpected answer from the primary db1\.example\.com:5432: /);
        }
      });

      it('--check: df printing a[$(cmd)] as free space is refused and never evaluated', () => {
        // df's fields are split on blanks: ${IFS} keeps the payload one field.
        const r = run(shell, { free: `a[$(touch\${IFS}${marker})]` }, '--check');
        assert.equal(existsSync(marker), false, `df's output ran as code:\n${r.out}`);
        assert.equal(r.status, 3, r.out);
        assert.match(r.out, /refused: cannot read the free space for .*\(df printed: a\[\$\(touch\$\{IFS\}/);
      });

      it('--check: a postmaster.pid port or host that is not one is refused and never reaches psql', () => {
        for (const pid of [
          { port: payload(), host: dir },
          { port: '5432', host: '-cSELECT' },
          { port: '5432', host: `${dir};touch` },
        ]) {
          const r = run(shell, { pid }, '--check');
          assert.equal(existsSync(marker), false, r.out);
          assert.equal(r.status, 3, r.out);
          assert.match(
            r.out,
            /refused: a postmaster runs on .* but does not answer: .*postmaster\.pid: unexpected (port|host) line/,
          );
          assert.ok(
            !r.psql.includes(pid.port === '5432' ? pid.host : pid.port),
            `psql got host data as an argument:\n${r.psql}`,
          );
        }
      });
    });
  }

  it("a session that fails part way reports psql's message, not the answers before it", function () {
    // The check waits CHECK_WAIT (30 s) for a primary that does not answer: one shell is enough.
    this.timeout(180_000);
    const r = run(
      'dash',
      { sessionError: 'FATAL:  no pg_hba.conf entry for replication connection' },
      '--check',
    );
    assert.equal(r.status, 3, r.out);
    assert.match(
      r.out,
      /refused: primary db1\.example\.com:5432 does not answer as replicator: FATAL: {2}no pg_hba\.conf entry for replication connection\s*$/m,
    );
    assert.doesNotMatch(r.out, /rec\||cfg\|/);
  });
});
