// The lifecycle verbs through the built CLI, without hosts: --help documents the steps and exit codes, and a bad
// standby is bad input (exit 4) with the JSON error shape under -o json, before any host is contacted.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../../helpers/cli.js';

describe('orch pg switchover / follow / promote: help and bad input', function () {
  this.timeout(60_000);
  let root: string;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-pg-life-cli-'));
    mkdirSync(path.join(root, 'inventory'));
    writeFileSync(path.join(root, 'inventory/hosts.yaml'), 'hosts:\n  db1:\n    address: 127.0.0.1\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const verb of ['switchover', 'follow', 'promote']) {
    it(`pg ${verb} --help names its steps, --test and the exit codes`, async () => {
      const r = await runOrch(['pg', verb, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /--test/);
      assert.match(r.stdout, /Exit codes: 0 done .* 7 refused/s);
      assert.match(r.stdout, /orch jobs lookup <jid>/);
    });
  }

  it('an unknown standby is bad input: exit 4, JSON errors with -o json', async () => {
    const r = await runOrch(['--root', root, '-o', 'json', 'pg', 'switchover', 'nosuch']);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const j = parseJson<{ errors: { code: string; message: string }[] }>(r);
    assert.equal(j.errors[0]!.code, 'UNKNOWN_TARGET');
    const h = await runOrch(['--root', root, 'pg', 'switchover', 'db1']);
    assert.equal(h.code, 4, 'a host without postgres pillar');
    assert.match(h.stderr, /db1 has no postgres pillar/);
  });
});
