// The reference through the built CLI: orch states (list, one function, JSON, unknown name), orch --version, and
// orch completion for bash (run in bash) and zsh.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../helpers/cli.js';

describe('orch CLI: reference', function () {
  this.timeout(60_000);

  it('orch states lists every function and shows one with its schema arguments', async () => {
    const list = await runOrch(['states']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^FUNCTION\s+WHAT$/m);
    assert.match(list.stdout, /^postgres\.replica\s+make this host a streaming standby/m);
    const one = await runOrch(['states', 'file.managed']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^makedirs\s+boolean\s+false\s+no/m);
    assert.match(
      one.stdout,
      /Will not touch \/ refuses:\n {2}- It never follows into other files and never deletes anything\./,
    );
    const j = parseJson<{ fn: string; args: { name: string; default?: string }[] }>(
      await runOrch(['-o', 'json', 'states', 'pkg.installed']),
    );
    assert.equal(j.fn, 'pkg.installed');
    assert.equal(j.args.find((a) => a.name === 'refresh')?.default, 'false');
    const bad = await runOrch(['states', 'file.nope']);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /no state function 'file\.nope'/);
  });

  it('orch --version names the commit, Node and key dependencies', async () => {
    const r = await runOrch(['--version']);
    assert.equal(r.code, 0);
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    assert.match(r.stdout, new RegExp(`^orch \\d+\\.\\d+\\.\\d+ \\(commit ${sha}(-dirty)?\\)\\n`));
    assert.ok(r.stdout.includes(`node ${process.version}\n`));
    assert.match(r.stdout, /ssh2 \d+\.\d+\.\d+, nunjucks \d+\.\d+\.\d+, zod 4\.\d+\.\d+/);
  });

  it('orch completion bash completes verbs, sub-verbs and options in bash', async () => {
    const r = await runOrch(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-completion-'));
    try {
      const file = path.join(dir, 'orch.bash');
      writeFileSync(file, r.stdout);
      const complete = (...words: string[]) =>
        execFileSync(
          'bash',
          [
            '-c',
            `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _orch; echo "\${COMPREPLY[*]}"`,
          ],
          { encoding: 'utf8' },
        ).trim();
      assert.equal(complete('orch', 'ho'), 'hostkeys hosts');
      assert.equal(complete('orch', '-o', 'json', 'jobs', 'l'), 'list lookup');
      assert.equal(complete('orch', 'apply', 'db1', '--li'), '--limit');
      assert.equal(complete('orch', '-o', ''), 'human json');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const z = await runOrch(['completion', 'zsh']);
    assert.equal(z.code, 0);
    assert.match(z.stdout, /^#compdef orch\n/);
    assert.match(z.stdout, /'jobs'\) offer=\(list lookup/);
    const fish = await runOrch(['completion', 'fish']);
    assert.equal(fish.code, 4);
    assert.match(fish.stderr, /value 'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh/);
  });
});
