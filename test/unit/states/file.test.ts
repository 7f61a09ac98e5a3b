import { strict as assert } from 'node:assert';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { InputError } from '../../../src/errors.js';
import { Project, state } from './helpers.js';

describe('states: file.directory, file.absent, file.line (real runs on the local shell)', () => {
  let p: Project;
  beforeEach(() => (p = new Project()));
  afterEach(() => p.cleanup());

  describe('file.directory', () => {
    it('reports the creation without creating, creates with the mode, then is clean', async () => {
      p.states(state('d', 'file.directory', { name: p.path('a/b'), mode: '0750', makedirs: true }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'change');
      assert.match(checks[0]!.diff!, /\+ directory .*a\/b \(mode 0750\)/);
      assert.equal(existsSync(p.path('a')), false, 'check must not create');

      const results = await p.apply();
      assert.equal(results[0]!.status, 'changed');
      assert.match(results[0]!.comment, /created/);
      assert.equal(statSync(p.path('a/b')).mode & 0o7777, 0o750);
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['clean'],
      );
    });

    it('fixes a drifted mode and nothing else', async () => {
      mkdirSync(p.path('d'), { mode: 0o700 });
      writeFileSync(p.path('d/keep'), 'x');
      chmodSync(p.path('d'), 0o700);
      p.states(state('d', 'file.directory', { name: p.path('d'), mode: '0755', user: 'root' }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'change');
      assert.equal(checks[0]!.diff, 'mode 0700 -> 0755');
      const results = await p.apply();
      assert.equal(results[0]!.status, 'changed');
      assert.match(results[0]!.comment, /mode/);
      assert.doesNotMatch(results[0]!.comment, /owner|created/);
      assert.equal(statSync(p.path('d')).mode & 0o7777, 0o755);
      assert.equal(readFileSync(p.path('d/keep'), 'utf8'), 'x');
      assert.equal((await p.apply())[0]!.status, 'clean');
    });

    it('without makedirs: unknown in check when the parent is missing, failure in apply', async () => {
      p.states(state('d', 'file.directory', { name: p.path('no/parent') }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'unknown');
      const results = await p.apply();
      assert.equal(results[0]!.status, 'failed');
      assert.match(results[0]!.comment, /parent directory .* does not exist/);
      assert.equal(existsSync(p.path('no')), false);
    });

    it('refuses to replace a file or a symlink', async () => {
      writeFileSync(p.path('f'), 'data');
      symlinkSync(p.root, p.path('l'));
      p.states(
        state('f', 'file.directory', { name: p.path('f') }) +
          state('l', 'file.directory', { name: p.path('l') }),
      );
      const { checks } = await p.check();
      assert.deepEqual(
        checks.map((c) => c.status),
        ['error', 'error'],
      );
      assert.match(checks[1]!.comment, /symbolic link/);
      const results = await p.apply();
      assert.deepEqual(
        results.map((r) => r.status),
        ['failed', 'failed'],
      );
      assert.equal(readFileSync(p.path('f'), 'utf8'), 'data');
    });
  });

  describe('file.absent', () => {
    it('describes what would go, removes it, then is clean', async () => {
      mkdirSync(p.path('tree/sub'), { recursive: true });
      writeFileSync(p.path('tree/sub/x'), 'x');
      writeFileSync(p.path('file'), '12345');
      p.states(
        state('t', 'file.absent', { name: p.path('tree') }) +
          state('f', 'file.absent', { name: p.path('file') }),
      );
      const { checks } = await p.check();
      assert.deepEqual(
        checks.map((c) => c.status),
        ['change', 'change'],
      );
      assert.match(checks[0]!.diff!, /- directory .*tree \(and 2 entries inside\)/);
      assert.match(checks[1]!.diff!, /- file .*file \(5 bytes\)/);
      assert.ok(existsSync(p.path('tree/sub/x')), 'check must not remove');

      const results = await p.apply();
      assert.deepEqual(
        results.map((r) => r.status),
        ['changed', 'changed'],
      );
      assert.equal(existsSync(p.path('tree')), false);
      assert.equal(existsSync(p.path('file')), false);
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['clean', 'clean'],
      );
    });

    it('removes a symlink, never its target', async () => {
      mkdirSync(p.path('real'));
      writeFileSync(p.path('real/x'), 'x');
      symlinkSync(p.path('real'), p.path('link'));
      p.states(state('l', 'file.absent', { name: p.path('link') }));
      assert.equal((await p.apply())[0]!.status, 'changed');
      assert.equal(existsSync(p.path('link')), false);
      assert.equal(readFileSync(p.path('real/x'), 'utf8'), 'x');
    });

    for (const bad of [
      '/',
      '/etc',
      '/usr/local',
      '/var/lib',
      `/tmp/x/../../etc`,
      '/srv/data/',
      'relative/path',
    ]) {
      it(`refuses ${bad} at compile time`, () => {
        p.states(state('x', 'file.absent', { name: bad }));
        assert.throws(() => p.compile(), InputError);
      });
    }
  });

  describe('file.line', () => {
    it('replaces matching lines, keeps every other byte, owner and mode; diff in check', async () => {
      const before = 'a = 1\r\n# port = 5432\n1.0\nweird \\ & $x \n#port=1\nlast line without newline';
      writeFileSync(p.path('conf'), before);
      chmodSync(p.path('conf'), 0o600);
      p.states(state('l', 'file.line', { name: p.path('conf'), line: 'port = 6543', match: '^#? ?port ?=' }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'change');
      assert.match(checks[0]!.diff!, /-# port = 5432\n/);
      assert.match(checks[0]!.diff!, /\+port = 6543/);
      assert.equal(readFileSync(p.path('conf'), 'utf8'), before, 'check must not write');

      assert.equal((await p.apply())[0]!.status, 'changed');
      assert.equal(
        readFileSync(p.path('conf'), 'utf8'),
        'a = 1\r\nport = 6543\n1.0\nweird \\ & $x \nport = 6543\nlast line without newline',
      );
      assert.equal(statSync(p.path('conf')).mode & 0o777, 0o600);
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['clean'],
      );
      assert.deepEqual(readdirSync(p.target), ['conf'], 'no temp file left');
    });

    it('compares lines as strings (1 is not 1.0) and keeps backslashes in regexes', async () => {
      writeFileSync(p.path('f'), '1.0\nhost 10.0.0.1 trust\nhost 10x0x0x1 md5\n');
      p.states(
        state('one', 'file.line', { name: p.path('f'), line: '1' }) +
          state('dot', 'file.line', { name: p.path('f'), ensure: 'absent', match: '^host 10\\.0\\.0\\.1 ' }),
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'changed'],
      );
      assert.equal(readFileSync(p.path('f'), 'utf8'), '1.0\nhost 10x0x0x1 md5\n1\n');
    });

    it('inserts after or before an anchor, or at the end', async () => {
      writeFileSync(p.path('f'), '[main]\nx=1\n[other]\n');
      writeFileSync(p.path('g'), '[main]\nx=1\n[other]\n');
      writeFileSync(p.path('h'), '');
      p.states(
        state('after', 'file.line', { name: p.path('f'), line: 'y=2', after: '^\\[main\\]$' }) +
          state('before', 'file.line', { name: p.path('g'), line: 'y=2', before: '^\\[other' }) +
          state('end', 'file.line', { name: p.path('h'), line: 'only' }),
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'changed', 'changed'],
      );
      assert.equal(readFileSync(p.path('f'), 'utf8'), '[main]\ny=2\nx=1\n[other]\n');
      assert.equal(readFileSync(p.path('g'), 'utf8'), '[main]\nx=1\ny=2\n[other]\n');
      assert.equal(readFileSync(p.path('h'), 'utf8'), 'only\n');
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['clean', 'clean', 'clean'],
      );
    });

    it('removes lines with ensure absent', async () => {
      writeFileSync(p.path('f'), 'keep\ndrop\nkeep too\ndrop\n');
      p.states(state('l', 'file.line', { name: p.path('f'), line: 'drop', ensure: 'absent' }));
      const { checks } = await p.check();
      assert.match(checks[0]!.diff!, /-drop/);
      await p.apply();
      assert.equal(readFileSync(p.path('f'), 'utf8'), 'keep\nkeep too\n');
    });

    it('a missing file: unknown in check, failure in apply (it never creates files)', async () => {
      p.states(state('l', 'file.line', { name: p.path('nope'), line: 'x' }));
      assert.equal((await p.check()).checks[0]!.status, 'unknown');
      const results = await p.apply();
      assert.equal(results[0]!.status, 'failed');
      assert.match(results[0]!.comment, /does not exist/);
    });

    it('edits a file that file.managed creates earlier in the same run', async () => {
      p.states(
        state('conf', 'file.managed', { name: p.path('app.conf'), contents: 'listen = 127.0.0.1\n' }) +
          state('line', 'file.line', {
            name: p.path('app.conf'),
            line: 'listen = *',
            match: '^listen',
            require: ['conf'],
          }),
      );
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['change', 'unknown'],
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'changed'],
      );
      assert.equal(readFileSync(p.path('app.conf'), 'utf8'), 'listen = *\n');
    });

    it('reports a bad regex as an error and leaves the file alone', async () => {
      writeFileSync(p.path('f'), 'x\n');
      p.states(state('l', 'file.line', { name: p.path('f'), line: 'y', match: '(' }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'error');
      assert.match(checks[0]!.comment, /cannot edit/);
      assert.equal(readFileSync(p.path('f'), 'utf8'), 'x\n');
    });

    it('rejects bad argument combinations at compile time', () => {
      for (const args of [
        { name: '/f' },
        { name: '/f', line: 'a\nb' },
        { name: '/f', line: 'a', after: 'x', before: 'y' },
        { name: '/f', line: 'a', unknown_arg: 1 },
        { name: '/f', ensure: 'absent' },
      ]) {
        p.states(state('l', 'file.line', args));
        assert.throws(() => p.compile(), InputError, JSON.stringify(args));
      }
    });
  });
});
