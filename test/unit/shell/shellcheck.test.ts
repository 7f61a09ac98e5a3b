// The shell orch generates passes shellcheck (POSIX sh, severity warning and above): the batch preamble and its
// helpers (script.ts, actor.ts), pg_make_replica for the PostgreSQL 15 and 11 layouts (and FreeBSD's), the pg
// status scripts (and the leftovers script), the connector's steps, the atomic write and file probe, the facts
// script, and the watchdog of scripts and of `orch run`. What shellcheck cannot see is annotated in the scripts
// with a reason.
import { strict as assert } from 'node:assert';
import { pgStatusScript } from '../../../src/pg/status-script.js';
import { leftoverScript } from '../../../src/pg/rebuild-leftovers.js';
import { factsScript } from '../../../src/facts/script.js';
import { WATCHDOG_PRELUDE, watchedCommand } from '../../../src/transport/watchdog.js';
import { buildBatch, helpers } from '../../../src/shell/script.js';
import { atomicWrite, fileProbe } from '../../../src/shell/file.js';
import { applySql, checkQuery, psqlSetup } from '../../../src/pg/connector.js';
import type { PgTarget } from '../../../src/pg/target.js';
import { AFTER_TIMEOUT_GUARD, TIMEOUT_PRELUDE, withTimeout } from '../../../src/engine/step-timeout.js';
import { requireShellcheck, shellcheckFindings } from '../../helpers/shellcheck.js';
import { renderReplicaScript, sampleInput } from '../states/postgres/replica-helpers.js';
import { postgresRestartGate } from '../../../src/states/postgres/replica-restarts.js';
import { compileOne } from '../states/postgres/helpers.js';

const pg11 = {
  version: '11',
  dataDir: '/var/lib/postgresql/11/main',
  binDir: '/usr/lib/postgresql/11/bin',
  serviceStart: ['systemctl', 'start', 'postgresql@11-main'],
  serviceStop: ['systemctl', 'stop', 'postgresql@11-main'],
  serviceStatus: ['systemctl', 'status', 'postgresql@11-main'],
};
const freebsd15 = {
  dataDir: '/var/db/postgres/data15',
  binDir: '/usr/local/bin',
  serviceStart: ['service', 'postgresql', 'start'],
  serviceStop: ['service', 'postgresql', 'stop'],
  serviceStatus: ['service', 'postgresql', 'status'],
  pgpass: '/var/db/postgres/.pgpass',
  freebsd: true,
};

const target: PgTarget = {
  port: 5432,
  socketDir: '/var/run/postgresql',
  osUser: 'postgres',
  db: 'postgres',
  binDir: '/usr/lib/postgresql/15/bin',
};
const step = (body: string) => buildBatch('0123abcd', [{ index: 0, body }]);

const scripts: [string, () => string][] = [
  ['the batch (preamble and a framed step)', () => buildBatch('0123abcd', [{ index: 0, body: 'echo hi' }])],
  ['the batch helpers (script.ts and actor.ts)', () => helpers()],
  [
    'a batch with a per-state timeout and the stop and after-timeout guards',
    () =>
      buildBatch(
        '0123abcd',
        [
          {
            index: 0,
            body: withTimeout('touch /tmp/x', 3),
            guards: [{ cond: '[ ! -e /tmp/orch-stop-0123abcd ]', reason: 'stopped' }, AFTER_TIMEOUT_GUARD],
          },
          { index: 1, body: 'echo hi', guards: [AFTER_TIMEOUT_GUARD] },
        ],
        TIMEOUT_PRELUDE,
      ),
  ],
  ['pg_make_replica for PostgreSQL 15', () => renderReplicaScript(sampleInput())],
  ['pg_make_replica for PostgreSQL 11', () => renderReplicaScript(sampleInput(pg11))],
  ['pg_make_replica on FreeBSD', () => renderReplicaScript(sampleInput(freebsd15))],
  ['the pg status script', () => pgStatusScript()],
  ['a connector check step (checkQuery)', () => step(checkQuery(target, 'SELECT 1;'))],
  [
    'a connector apply step (applySql)',
    () => step(`${psqlSetup({ ...target, dbUser: 'app' })}\n${applySql(target, 'SELECT 1;')}`),
  ],
  [
    'the atomic write and the file probe (shell/file.ts)',
    () =>
      step(
        `${fileProbe('/etc/x.conf', { expectSha: 'ab', content: 'if-differs' })}\nf=/etc/x.conf; d=/etc; o=/etc/x.old\n` +
          atomicWrite({
            fileVar: 'f',
            dirVar: 'd',
            tmpVar: 't',
            produce: 'echo x > "$t"',
            backupVar: 'o',
            temp: 'beside',
          }),
      ),
  ],
  [
    "the primary's restart gate (waits for its standbys)",
    () => {
      const c = compileOne('postgres.restart_gate', postgresRestartGate, {
        standbys: { 'db2.example.com': 'db2' },
        replication_user: 'replicator',
        pgpass: '/var/lib/postgresql/.pgpass',
      });
      const s = c.states[0]!;
      return step(
        s.impl.apply(s.args, s.prepared, { status: 'change', comment: '' }, c.ctx, { watchChanged: null }),
      );
    },
  ],
  ['the pg status leftovers script', () => leftoverScript()],
  ['the facts script', () => factsScript()],
  ["the scripts' watchdog prelude", () => `${WATCHDOG_PRELUDE}echo hi\n`],
  ['an orch run command under the watchdog', () => watchedCommand("printf '%s' 'a b'")],
];

describe('generated shell passes shellcheck', () => {
  for (const [what, script] of scripts) {
    it(what, function () {
      requireShellcheck(this);
      const text = script();
      assert.ok(text.length > 0);
      assert.equal(shellcheckFindings(text), '', `shellcheck findings in ${what}`);
    });
  }

  it('the check sees a real finding (so a pass means something)', function () {
    requireShellcheck(this);
    assert.match(shellcheckFindings('x=$(ls)\nrm $x\nexit $undefined_var\n'), /SC2086|SC2154/);
  });
});
