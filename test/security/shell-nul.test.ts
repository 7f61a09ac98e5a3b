// NUL never reaches a shell: the shells drop it from script text, so `file.absent: name: "/e\0tc"` acted on /etc.
// Every state argument holding one is a compile error naming the state and the host, before any host is touched;
// shQuote refuses one too. file.absent's guard also sees through unnormalized spellings of protected paths.
import { strict as assert } from 'node:assert';
import { OrchError } from '../../src/errors.js';
import { shQuote } from '../../src/shell/quote.js';
import { fileAbsent } from '../../src/states/file/absent.js';
import { Project, state } from '../unit/states/helpers.js';

function compileError(p: Project): OrchError {
  try {
    p.compile();
  } catch (err) {
    assert.ok(err instanceof OrchError, String(err));
    return err;
  }
  assert.fail('compile accepted the state');
}

describe('security: NUL bytes and protected paths are refused at compile time', () => {
  let p: Project;
  beforeEach(() => (p = new Project()));
  afterEach(() => p.cleanup());

  it('file.absent "/e\\0tc" is a compile error naming state and host; no exec runs', async () => {
    p.states(state('wipe', 'file.absent', { name: '/e\u0000tc' }));
    const err = compileError(p);
    assert.equal(err.code, 'STATE_ERROR');
    assert.match(
      err.message,
      /state 'wipe' file\.absent: name: contains a NUL byte \[host local\.example\.com\]/,
    );
    assert.equal(p.conn.stats().execs, 0);
  });

  const withNul: [string, Record<string, unknown>, RegExp][] = [
    ['file.managed', { name: '/tmp/a\u0000b', contents: 'x' }, /name: contains a NUL/],
    ['file.managed', { name: '/tmp/ok', contents: 'x', user: 'ro\u0000ot' }, /user: contains a NUL/],
    ['file.directory', { name: '/tmp/d\u0000' }, /name: contains a NUL/],
    ['file.line', { name: '/tmp/f', line: 'a\u0000b' }, /line: contains a NUL/],
    ['cmd.run', { name: 'echo a\u0000b' }, /name: contains a NUL/],
    ['cmd.run', { name: 'true', creates: ['/tmp/x', '/tmp/\u0000'] }, /creates\.1: contains a NUL/],
    ['cmd.script', { name: 's.sh', args: ['a', 'b\u0000'] }, /args\.1: contains a NUL/],
    ['postgres.role', { name: 'r\u0000oot' }, /name: contains a NUL/],
  ];
  for (const [fn, args, re] of withNul) {
    it(`${fn} ${JSON.stringify(args)} is refused naming the argument`, () => {
      p.states(state('s1', fn, args));
      const err = compileError(p);
      assert.equal(err.code, 'STATE_ERROR');
      assert.match(err.message, re);
      assert.match(
        err.message,
        new RegExp(`state 's1' ${fn.replace('.', '\\.')}: .*\\[host local\\.example\\.com\\]`),
      );
    });
  }

  for (const name of [
    '/etc/',
    '/etc/.',
    '//etc',
    '/etc/../etc',
    '/./etc',
    '/usr/lib/',
    '/var/lib/../lib',
    '/etc/..',
  ]) {
    it(`file.absent refuses ${JSON.stringify(name)}`, () => {
      p.states(state('rm', 'file.absent', { name }));
      const err = compileError(p);
      assert.match(
        err.message,
        /state 'rm' file\.absent: name: refusing to remove a system directory \[host local\.example\.com\]/,
      );
    });
  }

  it('the path schema itself refuses NUL, whatever calls it', () => {
    const r = fileAbsent.args.safeParse({ name: '/e\u0000tc' });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /NUL/);
  });

  it('shQuote refuses NUL with a BAD_INPUT error that does not echo the value', () => {
    assert.throws(
      () => shQuote('s3cr3t\u0000'),
      (e: unknown) =>
        e instanceof OrchError &&
        e.code === 'BAD_INPUT' &&
        /NUL byte/.test(e.message) &&
        !e.message.includes('s3cr3t'),
    );
  });
});
