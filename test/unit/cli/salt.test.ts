// `orch salt check` through the built CLI (exit codes, -o json, --help), and Salt's keyword arguments of
// `state.apply` (test=True, saltenv=) read as orch's options.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { saltKeywords } from '../../../src/cli/verbs/apply.js';
import { REPO_ROOT, parseJson, runOrch } from '../../helpers/cli.js';

const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures', name);

describe('orch salt check', function () {
  this.timeout(60_000);

  it('exits 4 listing each construct with file and line; -o json has the same list', async () => {
    const r = await runOrch(['salt', 'check', fixture('salt-unsupported')]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /^states\/web\/init\.sls:15: state 'deploy': state user\.present: /m);
    assert.match(r.stdout, /^21 construct\(s\) orch cannot run, in 5 file\(s\) read$/m);
    const j = parseJson<{ findings: { file: string; line: number; construct: string }[] }>(
      await runOrch(['-o', 'json', 'salt', 'check', fixture('salt-unsupported')]),
    );
    assert.equal(j.findings.length, 21);
    assert.deepEqual(j.findings[0], {
      file: 'pillar/top.sls',
      line: 2,
      construct: 'match: pillar',
      message: "target 'web*': orch matches glob, list and grain (key:value) targets, not pillar",
    });
  });

  it('exits 0 for the seed tree, and 4 for a directory that is no Salt tree', async () => {
    const ok = await runOrch(['salt', 'check', fixture('salt-seed')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /orch can run every construct of the 5 file\(s\) read/);
    const none = await runOrch(['salt', 'check', fixture('facts')]);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /has no states\/ directory/);
  });

  it('--help names the exit codes', async () => {
    const r = await runOrch(['salt', 'check', '--help']);
    assert.match(r.stdout, /Exit codes: 0 .*; 4 something is listed/);
  });

  it('apply: test= must be True or False, before anything connects', async () => {
    const r = await runOrch(['-r', fixture('salt-seed'), 'apply', '*', 'test=maybe']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /test=maybe: expected True or False/);
  });
});

describe("Salt's state.apply keywords", () => {
  const cases: [string[], { test?: boolean; saltenv?: string }, string[]][] = [
    [['test=True'], { test: true }, []],
    [['postgres', 'test=true', 'saltenv=dev'], { test: true, saltenv: 'dev' }, ['postgres']],
    [['test=False', 'a.b'], {}, ['a.b']],
    [['test=1'], { test: true }, []],
  ];
  for (const [given, flags, rest] of cases) {
    it(given.join(' '), () => {
      const o = { progress: true } as Parameters<typeof saltKeywords>[1];
      assert.deepEqual(saltKeywords(given, o), rest);
      assert.deepEqual({ test: o.test, saltenv: o.saltenv }, { test: flags.test, saltenv: flags.saltenv });
    });
  }
  it('saltenv= and --saltenv must agree', () => {
    assert.throws(
      () =>
        saltKeywords(['saltenv=a'], { progress: true, saltenv: 'b' } as Parameters<typeof saltKeywords>[1]),
      /disagree/,
    );
  });
});
