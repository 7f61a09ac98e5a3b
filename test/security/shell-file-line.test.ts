// file.line values are data, on every shell: a line `ORCH_EOF)` ended the old here-document early under bash (the
// rest of the parameters then ran as shell during the check), and dash dropped a byte of `Où ...`, writing
// invalid UTF-8 that was reported changed on every run. These run the real state (check, apply, re-check).
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseFacts } from '../../src/facts/parse.js';
import type { ExecOptions, ExecResult } from '../../src/transport/types.js';
import { LocalConnection, testHost } from '../helpers/local-connection.js';
import { Project, state } from '../unit/states/helpers.js';

/** Runs batches with a given shell on stdin, as the transport does with the host's /bin/sh. */
class ShellConnection extends LocalConnection {
  constructor(private readonly shell: string) {
    super(testHost());
  }
  override runScript(script: string, opts: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    this.scripts.push(script);
    return this.exec(`${this.shell} -s`, { ...opts, stdin: script });
  }
}

const SHELLS = ['dash', 'bash', 'bash --posix', 'busybox sh'];

describe('security: file.line content never runs as shell and is written exactly', function () {
  this.timeout(60_000);
  for (const shell of SHELLS) {
    describe(`with ${shell} as the host shell`, () => {
      let p: Project;
      beforeEach(() => (p = new Project(parseFacts(''), new ShellConnection(shell))));
      afterEach(() => p.cleanup());

      it('a line `ORCH_EOF)` with a shell payload in `after` executes nothing, lands exactly, then is clean', async () => {
        const marker = p.path('pwned');
        const f = p.path('conf');
        writeFileSync(f, 'a\n');
        // After an early end of a here-document, `(touch ...; ')'` is a complete subshell to the shell, while to
        // awk it is a valid ERE (a group, then a quote): so the old code ran it and the check still parsed.
        p.states(state('l', 'file.line', { name: f, line: 'ORCH_EOF)', after: `(touch ${marker}; ')'` }));
        const { checks } = await p.check();
        assert.equal(existsSync(marker), false, 'the check ran part of the value as shell');
        assert.equal(checks[0]!.status, 'change', checks[0]!.comment);
        const results = await p.apply();
        assert.equal(results[0]!.status, 'changed', results[0]!.comment);
        assert.deepEqual(readFileSync(f), Buffer.from('a\nORCH_EOF)\n'));
        assert.equal(existsSync(marker), false, 'the apply ran part of the value as shell');
        assert.deepEqual(
          (await p.check()).checks.map((c) => c.status),
          ['clean'],
        );
        assert.equal((await p.apply())[0]!.status, 'clean');
      });

      it('a line starting with a delimiter prefix and a non-ASCII byte is written as valid UTF-8, then clean', async () => {
        const f = p.path('motd');
        writeFileSync(f, 'x\n');
        p.states(state('l', 'file.line', { name: f, line: 'Où est la clé ? ORCH_E€ )' }));
        assert.equal((await p.apply())[0]!.status, 'changed');
        assert.deepEqual(readFileSync(f), Buffer.from('x\nOù est la clé ? ORCH_E€ )\n', 'utf8'));
        assert.deepEqual(
          (await p.check()).checks.map((c) => c.status),
          ['clean'],
        );
      });
    });
  }
});
