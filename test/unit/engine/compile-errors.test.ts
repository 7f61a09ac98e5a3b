// Compile errors: each names file, line, state and host, a host's errors come all at once, and a malformed
// top-file target is an input error of the top file (it aborts the run with exit 4).
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runExitCode } from '../../../src/engine/exit.js';
import { InputError, InputErrors } from '../../../src/errors.js';
import { isInputCode } from '../../../src/errors/codes.js';
import { Project, state } from '../states/helpers.js';

function compileError(p: Project): InputError {
  try {
    p.compile();
  } catch (err) {
    assert.ok(err instanceof InputError, `an input error, got ${String(err)}`);
    return err;
  }
  assert.fail('compile succeeded');
}

describe('compile errors', () => {
  let p: Project;
  beforeEach(() => (p = new Project()));
  afterEach(() => p.cleanup());

  it("a malformed top-file key ('here.example.com,,x') names the top file and line and aborts the run", () => {
    p.states(state('motd', 'file.managed', { name: p.path('motd'), contents: 'hi' }));
    writeFileSync(path.join(p.root, 'states', 'top.yaml'), "'*': [site]\n'here.example.com,,x': [site]\n");
    const err = compileError(p);
    assert.equal(err.code, 'UNKNOWN_TARGET');
    assert.equal(err.file, 'states/top.yaml');
    assert.equal(err.line, 2);
    assert.equal(err.host, 'local.example.com');
    assert.match(
      err.message,
      /^states\/top\.yaml:2: top-file target: empty target term in 'here\.example\.com,,x' \[host local\.example\.com\]$/,
    );
    // What the run loop does with it: an input error aborts before any host is changed, and the run exits 4.
    assert.ok(isInputCode(err.code));
    assert.equal(
      runExitCode({ mode: 'apply', aborted: { host: 'h', code: err.code, message: err.message }, hosts: [] }),
      4,
    );
  });

  it("reports all of a host's errors at once, each with file, line, state and host", () => {
    p.states(
      [
        state('ok_file', 'file.managed', { name: p.path('a'), contents: 'x' }),
        state('bad_mode', 'file.managed', { name: p.path('b'), contents: 'x', mode: 'rwx' }),
        state('no_such', 'file.nonsense', { name: p.path('c') }),
        state('bad_user', 'file.managed', { name: p.path('d'), contents: 'x', user: 'a b' }),
      ].join(''),
    );
    const err = compileError(p);
    assert.ok(err instanceof InputErrors);
    assert.deepEqual(
      err.errors.map((e) => [e.file, e.line, e.state, e.host]),
      [
        ['states/site.yaml', 6, 'bad_mode', 'local.example.com'],
        ['states/site.yaml', 11, 'no_such', 'local.example.com'],
        ['states/site.yaml', 14, 'bad_user', 'local.example.com'],
      ],
    );
    for (const e of err.errors) {
      assert.match(
        e.message,
        new RegExp(`^states/site\\.yaml:${e.line}: state '${e.state}'.*\\[host local\\.example\\.com\\]$`),
      );
    }
    assert.equal(err.message, err.errors.map((e) => e.message).join('\n'));
    // The whole carries the first error's location (callers reading err.file keep working).
    assert.deepEqual(
      [err.code, err.file, err.line, err.state],
      ['STATE_ERROR', 'states/site.yaml', 6, 'bad_mode'],
    );
  });

  it("a state module's own check (postgres.replica on PostgreSQL 9.6) says file, line, state and host", () => {
    p.states(
      state('standby', 'postgres.replica', {
        primary: 'db1.example.com',
        replication_user: 'replicator',
        slot: 's1',
        version: '9.6',
        pgpass: '/var/lib/postgresql/.pgpass',
      }),
    );
    const err = compileError(p);
    assert.equal(err.code, 'STATE_ERROR');
    assert.deepEqual(
      [err.file, err.line, err.state, err.host],
      ['states/site.yaml', 2, 'standby', 'local.example.com'],
    );
    assert.equal(
      err.message,
      "states/site.yaml:2: state 'standby' postgres.replica: postgres.replica supports PostgreSQL 10 and later, not 9.6 [host local.example.com]",
    );
  });

  it('names every state declared twice, and a missing state file with the host', () => {
    p.states(state('one', 'file.managed', { name: p.path('a'), contents: 'x' }));
    writeFileSync(path.join(p.root, 'states', 'top.yaml'), "'*': [site, nowhere]\n");
    const err = compileError(p);
    assert.match(err.message, /state file 'nowhere' not found .*\[host local\.example\.com\]$/);
    assert.equal(err.host, 'local.example.com');
    writeFileSync(
      path.join(p.root, 'states', 'other.yaml'),
      state('one', 'file.managed', { name: p.path('b'), contents: 'y' }),
    );
    writeFileSync(path.join(p.root, 'states', 'top.yaml'), "'*': [site, other]\n");
    const dup = compileError(p);
    assert.deepEqual([dup.file, dup.state, dup.host], ['states/other.yaml', 'one', 'local.example.com']);
    assert.match(
      dup.message,
      /^states\/other\.yaml:2: state 'one' \(file\) is declared twice: here and at states\/site\.yaml:2 \[host local\.example\.com\]$/,
    );
  });
});
