// The other commands orch starts on the controller for the operator get the same scrubbed environment as
// --on-drift (secrets-output.test.ts): the --on-event hook of the lifecycle verbs and of a rebuild by apply, and
// promote's --fence-command. Each runs for real through /bin/sh; what it sees is written to a file and read back.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emitEvent, lifecycleEvent, rebuildEvents } from '../../src/jobs/events.js';
import { runFence } from '../../src/jobs/pg-lifecycle.js';
import { MASK, redactor } from '../../src/secrets/redactor.js';
import { shQuote } from '../../src/shell/quote.js';

describe('security: --on-event hooks and --fence-command get a scrubbed environment', () => {
  let dir: string;
  let saved: NodeJS.ProcessEnv;
  const secret = `ev-s3cr3t-${process.pid}-${Date.now().toString(36)}`;
  const HELD = {
    ORCH_AGE_IDENTITY: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
    ORCH_AGE_IDENTITY_FILE: '/root/.config/orch/identity.txt',
    ORCH_JOB_STORE: 'postgres://orch:hunter22@db.example.com/orch',
    DATABASE_URL: 'postgresql://app:pw-in-url@db/app',
    PGPASSWORD: 'libpq-password',
    AN_AGE_KEY_ELSEWHERE: 'x AGE-SECRET-KEY-1ABCDEF',
    SOME_APP_VALUE: `x${secret}x`,
  };
  const NEVER = [
    'ORCH_AGE_IDENTITY',
    'ORCH_JOB_STORE',
    'hunter22',
    'pw-in-url',
    'libpq-password',
    'AGE-SECRET',
    secret,
  ];

  before(() => redactor.add(secret));
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-sec-hooks-'));
    saved = { ...process.env };
    Object.assign(process.env, HELD, { KEEP_ME: 'plain' });
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  });

  function assertScrubbed(env: string): void {
    for (const bad of NEVER) assert.ok(!env.includes(bad), `${bad} reached the command:\n${env}`);
    assert.match(env, /^KEEP_ME=plain$/m);
    assert.match(env, /^PATH=/m);
  }

  const record = (name: string) => {
    const env = path.join(dir, `${name}.env`);
    const stdin = path.join(dir, `${name}.stdin`);
    return { env, stdin, command: `env > ${shQuote(env)}; cat > ${shQuote(stdin)}` };
  };

  it('a lifecycle event hook: ORCH_EVENT and ORCH_EVENT_JID only, the event on stdin masked', async () => {
    const r = record('switchover');
    const ev = lifecycleEvent('pg switchover', '20261202060000000001', {
      exitCode: 0,
      state: 'done',
      message: `db2 is the primary; conninfo password=${secret}`,
      steps: [{ host: 'db2', step: 'promote', status: 'ok', detail: `with ${secret}`, at: 'now' }],
    });
    const hook = await emitEvent(r.command, ev);
    assert.ok(hook.ok, hook.stderr);
    const env = readFileSync(r.env, 'utf8');
    assertScrubbed(env);
    assert.match(env, /^ORCH_EVENT=switchover$/m);
    assert.match(env, /^ORCH_EVENT_JID=20261202060000000001$/m);
    const orchVars = env
      .split('\n')
      .filter((l) => l.startsWith('ORCH_'))
      .map((l) => l.split('=')[0]);
    assert.deepEqual(orchVars.sort(), ['ORCH_EVENT', 'ORCH_EVENT_JID']);
    const got = JSON.parse(readFileSync(r.stdin, 'utf8')) as { message: string; steps: { detail: string }[] };
    assert.equal(got.message, `db2 is the primary; conninfo password=${MASK}`);
    assert.equal(got.steps[0]!.detail, `with ${MASK}`);
  });

  it("a rebuild event from apply's report: the same scrubbed environment", async () => {
    const r = record('rebuild');
    const [ev] = rebuildEvents('20261202060000000002', [
      {
        host: 'db2',
        ok: true,
        ms: 1,
        stats: { connections: 1, execs: 1 },
        states: [
          {
            fn: 'postgres.replica',
            status: 'changed',
            changed: true,
            comment: `replica built from db1 (${secret})`,
          },
        ],
      } as never,
    ]);
    assert.ok(ev, 'the report makes a rebuild event');
    const hook = await emitEvent(r.command, ev);
    assert.ok(hook.ok, hook.stderr);
    assertScrubbed(readFileSync(r.env, 'utf8'));
    assert.ok(!readFileSync(r.stdin, 'utf8').includes(secret));
  });

  it("a hook's stderr is masked before orch relays it", async () => {
    const hook = await emitEvent(
      `printf 'leaked %s\\n' ${shQuote(secret)} >&2; exit 4`,
      lifecycleEvent('pg follow', 'j', { exitCode: 0, state: 'done', message: 'm', steps: [] }),
    );
    assert.equal(hook.code, 4);
    assert.equal(hook.stderr, `leaked ${MASK}`);
  });

  it('the fence command: ORCH_FENCE_HOST only', async () => {
    const r = record('fence');
    assert.equal(await runFence(`env > ${shQuote(r.env)}`, 'db1.example.com'), 0);
    const env = readFileSync(r.env, 'utf8');
    assertScrubbed(env);
    assert.match(env, /^ORCH_FENCE_HOST=db1\.example\.com$/m);
  });
});
