// The error table: every code has an exit code, a kind and a hint; the lists derived from it agree with each
// other and with the README's exit codes; --debug and plain descriptions of an error, secrets masked.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError, InputErrors, OrchError, exitCodeFor } from '../../../src/errors.js';
import {
  ERROR_CODES,
  EXIT,
  codeExit,
  hostErrorStatus,
  isInputCode,
  isTransportCode,
  type ErrorKind,
} from '../../../src/errors/codes.js';
import { debugLog, setDebug } from '../../../src/errors/debug.js';
import { causeChain, describeError, errorsJson } from '../../../src/errors/describe.js';
import { runExitCode } from '../../../src/engine/exit.js';
import { summarize } from '../../../src/engine/result.js';
import { Redactor } from '../../../src/secrets/redactor.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const KIND_EXIT: Record<ErrorKind, number> = {
  input: EXIT.BAD_INPUT,
  transport: EXIT.UNREACHABLE,
  failed: EXIT.FAILED,
  refused: EXIT.REFUSED,
  locked: EXIT.LOCKED,
  cancelled: EXIT.ERROR,
  internal: EXIT.ERROR,
};

describe('error codes: the one table', () => {
  it('gives every code an exit code that follows from its kind, and a hint', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.equal(info.exit, KIND_EXIT[info.kind], `${code}: exit ${info.exit} but kind ${info.kind}`);
      assert.ok(info.hint.length > 10 && !info.hint.includes('\n'), `${code}: a one-line hint`);
      assert.equal(exitCodeFor(new OrchError(code as keyof typeof ERROR_CODES, 'x')), info.exit);
    }
  });

  it('sorts a malformed target (UNKNOWN_TARGET) and an inventory error as bad input that aborts a run', () => {
    for (const code of ['UNKNOWN_TARGET', 'INVENTORY_ERROR', 'STATE_ERROR', 'SECRET_ERROR', 'BAD_INPUT']) {
      assert.ok(isInputCode(code), code);
      assert.equal(codeExit(code), 4, code);
    }
    assert.ok(!isInputCode('HOST_UNREACHABLE') && !isInputCode('COMMAND_FAILED'));
  });

  it('derives the transport codes the run summary counts as unreachable', () => {
    const transport = Object.keys(ERROR_CODES).filter(isTransportCode).sort();
    assert.deepEqual(transport, [
      'AUTH_FAILED',
      'HOST_KEY_CHANGED',
      'HOST_KEY_UNKNOWN',
      'HOST_UNREACHABLE',
      'TIMEOUT',
    ]);
    const host = (code: string) => ({
      host: code,
      ok: false,
      error: { code, message: '' },
      states: [],
      stats: { connections: 0, execs: 0 },
      ms: 0,
    });
    const s = summarize([host('TIMEOUT'), host('COMMAND_FAILED'), host('AUTH_FAILED')]);
    assert.deepEqual([s.unreachable, s.failedHosts], [2, 1]);
    assert.equal(runExitCode({ mode: 'apply', hosts: [host('TIMEOUT')] }), 3);
    assert.equal(
      runExitCode({ mode: 'apply', aborted: { host: 'h', code: 'UNKNOWN_TARGET', message: '' }, hosts: [] }),
      4,
    );
  });

  it('gives each host error one status word, shared by apply, run and drift', () => {
    assert.equal(hostErrorStatus('CANCELLED'), 'not_run');
    assert.equal(hostErrorStatus('TIMEOUT'), 'timeout');
    for (const code of ['AUTH_FAILED', 'HOST_KEY_CHANGED', 'HOST_KEY_UNKNOWN', 'HOST_UNREACHABLE'])
      assert.equal(hostErrorStatus(code), 'unreachable', code);
    assert.equal(hostErrorStatus('COMMAND_FAILED'), 'error');
    assert.equal(hostErrorStatus('NOT_AN_ORCH_CODE'), 'error');
  });

  it("matches the README's exit code table and maps what is not orch's to 5", () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    for (const n of new Set(Object.values(ERROR_CODES).map((i) => i.exit))) {
      assert.match(readme, new RegExp(`^\\| ${n} \\| `, 'm'), `exit ${n} is documented`);
    }
    assert.equal(exitCodeFor(new Error('boom')), EXIT.ERROR);
    assert.equal(codeExit('ENOENT'), EXIT.ERROR);
  });
});

describe('error descriptions', () => {
  const located = (state: string, line: number) =>
    new InputError('STATE_ERROR', `state '${state}': bad [host h1]`, {
      file: 'states/site.yaml',
      line,
      state,
      host: 'h1',
    });

  it('plain: one line per error, then the hint of each code once', () => {
    const err = new InputErrors([located('a', 2), located('b', 7)]);
    assert.deepEqual(describeError(err), [
      "states/site.yaml:2: state 'a': bad [host h1]",
      "states/site.yaml:7: state 'b': bad [host h1]",
      `hint: ${ERROR_CODES.STATE_ERROR.hint}`,
    ]);
  });

  it('JSON: each error with its file, line, state, host and hint', () => {
    const [a, b] = errorsJson(new InputErrors([located('a', 2), located('b', 7)]));
    assert.deepEqual(a, {
      code: 'STATE_ERROR',
      message: "states/site.yaml:2: state 'a': bad [host h1]",
      file: 'states/site.yaml',
      line: 2,
      state: 'a',
      host: 'h1',
      hint: ERROR_CODES.STATE_ERROR.hint,
    });
    assert.equal(b!.line, 7);
    assert.deepEqual(errorsJson(new Error('x')), [
      { code: 'INTERNAL', message: 'x', hint: ERROR_CODES.INTERNAL.hint },
    ]);
  });

  it('debug: the code, the cause chain and the stack', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const mid = new OrchError('HOST_UNREACHABLE', 'cannot reach db1', { cause: root });
    const top = new OrchError('JOB_STORE_ERROR', 'store down', { cause: mid });
    assert.deepEqual(causeChain(top), [mid, root]);
    const lines = describeError(top, { debug: true });
    assert.equal(lines[0], '[JOB_STORE_ERROR] store down');
    assert.equal(lines[1], '  caused by: [HOST_UNREACHABLE] cannot reach db1');
    assert.equal(lines[2], '  caused by: Error ECONNREFUSED: connect ECONNREFUSED');
    assert.equal(lines[3], '  stack:');
    assert.match(lines[4]!, /^ {4}at .*codes\.test\.ts/);
    assert.equal(lines.at(-1), `hint: ${ERROR_CODES.JOB_STORE_ERROR.hint}`);
  });

  it('debugLog prints only when on, through the mask it was given', () => {
    const r = new Redactor();
    r.add('hunter2-secret');
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
    try {
      const err = new OrchError('TEMPLATE_ERROR', 'bad value hunter2-secret', {
        cause: new Error('password hunter2-secret refused'),
      });
      debugLog('host h1', err);
      setDebug((t) => r.redact(t));
      debugLog('host h1', err);
    } finally {
      setDebug(undefined);
      process.stderr.write = original;
    }
    assert.equal(written.length, 1, 'nothing is printed while debug is off');
    const text = written[0]!;
    assert.match(
      text,
      /^orch: debug: host h1:\n {2}\[TEMPLATE_ERROR\] bad value \*{8}\n {4}caused by: Error: password \*{8} refused\n/,
    );
    assert.match(text, / {4}stack:\n/);
    assert.doesNotMatch(text, /hunter2/);
  });
});
