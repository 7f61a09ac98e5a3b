import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import { runCommand } from '../../../src/states/cmd/guards.js';
import { fixture } from '../facts/fixtures.js';
import { Project, state } from './helpers.js';
import { printedText } from '../../helpers/print-content.js';

describe('states: cmd.run and cmd.script (real runs on the local shell)', () => {
  let p: Project;
  beforeEach(() => (p = new Project()));
  afterEach(() => p.cleanup());

  describe('cmd.run', () => {
    it('check says "would run" and runs nothing; apply runs; creates makes it idempotent', async () => {
      const out = p.path('made');
      p.states(state('mk', 'cmd.run', { name: `echo hello > ${out}`, creates: out }));
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'change');
      assert.equal(checks[0]!.comment, `would run: echo hello > ${out}`);
      assert.equal(existsSync(out), false);

      const results = await p.apply();
      assert.equal(results[0]!.status, 'changed');
      assert.equal(readFileSync(out, 'utf8'), 'hello\n');
      const again = await p.check();
      assert.equal(again.checks[0]!.status, 'clean');
      assert.match(again.checks[0]!.comment, /guard says no: creates .* already exists/);
      assert.equal((await p.apply())[0]!.status, 'clean');
    });

    it('unless skips when every command succeeds; onlyif runs only when every command succeeds', async () => {
      const log = p.path('log');
      const run = (tag: string) => `echo ${tag} >> ${log}`;
      p.states(
        state('u1', 'cmd.run', { name: run('u1'), unless: 'true' }) +
          state('u2', 'cmd.run', { name: run('u2'), unless: ['true', 'false'] }) +
          state('o1', 'cmd.run', { name: run('o1'), onlyif: ['true', 'true'] }) +
          state('o2', 'cmd.run', { name: run('o2'), onlyif: ['true', 'false'] }),
      );
      const { checks } = await p.check();
      assert.deepEqual(
        checks.map((c) => c.status),
        ['clean', 'change', 'change', 'clean'],
      );
      assert.match(checks[0]!.comment, /unless `true` succeeded/);
      assert.match(checks[3]!.comment, /onlyif `true` && `false` failed/);
      const results = await p.apply();
      assert.deepEqual(
        results.map((r) => r.status),
        ['clean', 'changed', 'changed', 'clean'],
      );
      assert.equal(readFileSync(log, 'utf8'), 'u2\no1\n');
    });

    it('re-evaluates guards at apply time (the state before it created the file)', async () => {
      const flag = p.path('flag');
      const log = p.path('log');
      p.states(
        state('first', 'cmd.run', { name: `touch ${flag}` }) +
          state('second', 'cmd.run', {
            name: `echo ran >> ${log}`,
            unless: `test -e ${flag}`,
            require: ['first'],
          }),
      );
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['change', 'change'],
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'clean'],
      );
      assert.equal(existsSync(log), false);
    });

    it('runs in cwd with env exported inside the script, not on a command line', async () => {
      mkdirSync(p.path('work'));
      const secret = "s3cr'et value";
      p.states(
        state('e', 'cmd.run', {
          name: 'pwd > out; printf %s "$APP_TOKEN" >> out',
          cwd: p.path('work'),
          env: { APP_TOKEN: secret },
        }),
      );
      assert.equal((await p.apply())[0]!.status, 'changed');
      assert.equal(readFileSync(p.path('work/out'), 'utf8'), `${p.path('work')}\n${secret}`);
      const script = p.conn.scripts.at(-1)!;
      assert.match(script, /^APP_TOKEN='s3cr'\\''et value'$/m);
      assert.match(script, /^export APP_TOKEN$/m);
    });

    it('a missing cwd is unknown in check and a failure in apply', async () => {
      p.states(state('c', 'cmd.run', { name: 'true', cwd: p.path('later') }));
      assert.equal((await p.check()).checks[0]!.status, 'unknown');
      const r = (await p.apply())[0]!;
      assert.equal(r.status, 'failed');
      assert.match(r.comment, /cwd .*later does not exist/);
    });

    it('a failing command fails with its last output lines; exit status 100 is not "changed"', async () => {
      p.states(
        state('f', 'cmd.run', {
          name: 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i; done; exit 100',
        }) + state('after', 'cmd.run', { name: 'true', require: ['f'] }),
      );
      const results = await p.apply();
      assert.deepEqual(
        results.map((r) => r.status),
        ['failed', 'not_run'],
      );
      assert.equal(results[0]!.changed, false);
      assert.match(results[0]!.comment, /command failed \(exit status 100\):\nline3\n[\s\S]*line12$/);
      assert.doesNotMatch(results[0]!.comment, /line2\n/);
    });

    it('a syntax error in the command stays inside its own shell', async () => {
      const out = p.path('ok');
      p.states(
        state('bad', 'cmd.run', { name: "echo 'unclosed" }) +
          state('good', 'cmd.run', { name: `touch ${out}` }),
      );
      const results = await p.apply();
      assert.deepEqual(
        results.map((r) => r.status),
        ['failed', 'changed'],
      );
      assert.ok(existsSync(out));
    });

    it('runs as another user with su -s /bin/sh on Linux', async () => {
      p.states(state('who', 'cmd.run', { name: 'id -un; exit 3', runas: 'nobody' }));
      const r = (await p.apply())[0]!;
      assert.equal(r.status, 'failed');
      assert.match(r.comment, /exit status 3\):\nnobody$/);
    });

    it('runs as another user on FreeBSD through orch_run_as, never through the login shell', () => {
      const freebsd = parseFacts(fixture('freebsd14-pg15.txt'));
      assert.equal(
        runCommand(freebsd, "echo 'x'", 'pgsql'),
        `orch_run_as pgsql /bin/sh -c 'echo '\\''x'\\'''`,
      );
      assert.equal(runCommand(parseFacts(''), 'id', 'postgres'), 'su -s /bin/sh postgres -c id');
    });

    it('runs with onchanges only when the watched file changed', async () => {
      const log = p.path('log');
      const yaml = (content: string) =>
        state('conf', 'file.managed', { name: p.path('app.conf'), contents: content }) +
        state('reload', 'cmd.run', { name: `echo reload >> ${log}`, onchanges: ['conf'] });
      p.states(yaml('v1\n'));
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'changed'],
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['clean', 'clean'],
      );
      p.states(yaml('v2\n'));
      assert.deepEqual(
        (await p.check()).checks.map((c) => c.status),
        ['change', 'change'],
      );
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['changed', 'changed'],
      );
      assert.equal(readFileSync(log, 'utf8'), 'reload\nreload\n');
    });

    it('rejects unknown arguments and bad env names at compile time', () => {
      for (const args of [
        { name: 'true', shell: '/bin/bash' },
        { name: 'true', env: { 'A-B': 'x' } },
        { name: 'true', creates: 'rel' },
      ]) {
        p.states(state('c', 'cmd.run', args));
        assert.throws(() => p.compile(), InputError, JSON.stringify(args));
      }
    });
  });

  describe('cmd.script', () => {
    it('renders the template, passes args, runs it from the batch (stdin cannot swallow it)', async () => {
      const out = p.path('out');
      p.states(
        state('s', 'cmd.script', {
          name: 'setup',
          source: 'setup.sh.njk',
          context: { who: 'db' },
          args: ['a b', 'c'],
        }),
        {
          'setup.sh.njk':
            '#!/bin/sh\nset -e\n# a command reading stdin must not eat the script\ncat > /dev/null\n' +
            `printf '%s|' "{{ who }}" "$1" "$2" > ${out}\necho done >> ${out}\n`,
        },
      );
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'change');
      assert.equal(checks[0]!.comment, 'would run script setup.sh.njk');
      assert.equal(existsSync(out), false);
      const r = (await p.apply())[0]!;
      assert.equal(r.status, 'changed', r.comment);
      assert.equal(readFileSync(out, 'utf8'), 'db|a b|c|done\n');
      const batch = p.conn.scripts.at(-1)!;
      assert.match(
        printedText(batch),
        /^# a command reading stdin must not eat the script$/m,
        'the script travels in the batch',
      );
      assert.doesNotMatch(batch, /mktemp/, 'never as a temp file');
    });

    it('reports a syntax error in check, and guards like cmd.run', async () => {
      writeFileSync(p.path('exists'), '');
      p.states(
        state('bad', 'cmd.script', { name: 'bad.sh' }) +
          state('guarded', 'cmd.script', { name: 'ok.sh', creates: p.path('exists') }),
        { 'bad.sh': 'if true; then\necho x\n', 'ok.sh': 'exit 1\n' },
      );
      const { checks } = await p.check();
      assert.equal(checks[0]!.status, 'error');
      assert.match(checks[0]!.comment, /syntax error/);
      assert.equal(checks[1]!.status, 'clean');
      assert.deepEqual(
        (await p.apply()).map((r) => r.status),
        ['failed', 'clean'],
      );
    });

    it('fails with the script output and status', async () => {
      p.states(state('s', 'cmd.script', { name: 'fail.sh' }), {
        'fail.sh': 'echo "about to fail" >&2\nexit 7\n',
      });
      const r = (await p.apply())[0]!;
      assert.equal(r.status, 'failed');
      assert.match(r.comment, /script fail.sh failed \(exit status 7\):\nabout to fail/);
    });
  });
});
