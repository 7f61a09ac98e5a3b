// Output and exit codes of `orch run` (src/cli/verbs/run.ts), from hand-made host outcomes.
import assert from 'node:assert/strict';
import { runExitCode, runHostText, runJson, runSummaryText, runSummary } from '../../../src/cli/verbs/run.js';
import { AuthFailedError, CommandTimeoutError, HostKeyChangedError } from '../../../src/errors.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import type { HostOutcome } from '../../../src/transport/fleet.js';
import type { ExecResult } from '../../../src/transport/types.js';

const spec = (name: string): HostSpec => ({
  name,
  address: name,
  port: 22,
  user: 'root',
  groups: [],
  vars: {},
  source: { file: 't' },
});
const stats = { connections: 1, execs: 1 };
const ran = (name: string, r: ExecResult): HostOutcome<ExecResult> => ({
  host: spec(name),
  ok: true,
  value: r,
  stats,
  ms: 1234,
});
const ok = ran('a', { stdout: 'hello', stderr: '', code: 0 });
const bad = ran('b', { stdout: 'x\n', stderr: 'boom\n', code: 2 });
const killed = ran('k', { stdout: '', stderr: '', code: null, signal: 'KILL' });
const auth: HostOutcome<ExecResult> = {
  host: spec('c'),
  ok: false,
  error: new AuthFailedError('c', 'c: auth failed'),
  stats,
  ms: 5,
};
const changed: HostOutcome<ExecResult> = {
  host: spec('d'),
  ok: false,
  error: new HostKeyChangedError('d', 'd: changed'),
  stats,
  ms: 5,
};
const timeout: HostOutcome<ExecResult> = {
  host: spec('t'),
  ok: false,
  error: new CommandTimeoutError('t', 't: timed out'),
  stats,
  ms: 5,
};

describe('orch run output', () => {
  it('prints header, stdout (newline-terminated), stderr and exit status per host', () => {
    assert.equal(runHostText(ok), '=== a\nhello\n--- exit 0 (1.23s)\n');
    assert.equal(runHostText(bad), '=== b\nx\n--- stderr\nboom\n--- exit 2 (1.23s)\n');
    assert.equal(runHostText(killed), '=== k\n--- killed by signal KILL (1.23s)\n');
    assert.equal(runHostText(auth), '=== c\n--- error AUTH_FAILED: c: auth failed\n');
  });

  it('summarises and builds the JSON shape', () => {
    const all = [ok, bad, killed, auth];
    assert.deepEqual(runSummary(all, 99), { hosts: 4, ok: 1, nonZero: 2, failed: 1, ms: 99 });
    assert.equal(
      runSummaryText(runSummary(all, 1500)),
      '4 host(s): 1 exit 0, 2 non-zero, 1 failed to run (1.50s)\n',
    );
    const doc = runJson([ok, auth], 7);
    assert.deepEqual(doc.hosts, [
      { host: 'a', ok: true, exitCode: 0, stdout: 'hello', stderr: '' },
      {
        host: 'c',
        ok: false,
        exitCode: null,
        stdout: '',
        stderr: '',
        error: { code: 'AUTH_FAILED', message: 'c: auth failed' },
      },
    ]);
  });

  it('exits 0 when all exit 0, 1 on a non-zero exit, 3 when any host failed to connect', () => {
    assert.equal(runExitCode([ok]), 0);
    assert.equal(runExitCode([]), 0);
    assert.equal(runExitCode([ok, bad]), 1);
    assert.equal(runExitCode([ok, killed]), 1);
    assert.equal(runExitCode([bad, auth]), 3);
    assert.equal(runExitCode([changed, ok]), 3);
    assert.equal(runExitCode([timeout]), 3);
  });
});
