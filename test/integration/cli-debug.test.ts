// Debugging a run through the built CLI, against one loopback sshd: -v lists clean states, -vv each phase per host
// with its time, --debug the generated scripts and the raw framed output, and `orch render --script check|apply`
// the batch that would run; a pillar secret used in a state is masked in all of them.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, parseJson, runOrch } from '../helpers/cli.js';
import { DEMO_IDENTITY } from '../helpers/formula-lab.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

const SECRET = `dbg-${process.pid}-${Date.now().toString(36)}-token`;

describe('orch CLI: -v, -vv, --debug and render --script', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let root = '';
  const env = { ORCH_AGE_IDENTITY: DEMO_IDENTITY, ORCH_AGE_IDENTITY_FILE: '' };
  const orch = (...args: string[]) => runOrch(['-r', root, ...args], { env });

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-cli-debug-'));
    for (const d of ['inventory', 'states', 'pillar']) mkdirSync(path.join(root, d));
    copyFileSync(path.join(REPO_ROOT, 'pillar/.recipients'), path.join(root, 'pillar/.recipients'));
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `hosts:\n  dbg.example.com: { address: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${sshd.clientKey} }\n`,
    );
    const enc = await runOrch(['-r', root, 'secrets', 'encrypt'], { input: SECRET, env });
    assert.equal(enc.code, 0, enc.stderr);
    writeFileSync(path.join(root, 'pillar/top.yaml'), "'*': [app]\n");
    writeFileSync(path.join(root, 'pillar/app.yaml'), `token: ${enc.stdout.trim()}\n`);
    writeFileSync(path.join(root, 'states/top.yaml'), "'*': [site]\n");
    writeFileSync(
      path.join(root, 'states/site.yaml'),
      [
        'clean_one:',
        '  cmd.run:',
        "    - name: 'true'",
        "    - unless: 'true'",
        'uses_secret:',
        '  cmd.run:',
        "    - name: printf '%s\\n' {{ pillar.token | sh }} >/dev/null",
        '',
      ].join('\n'),
    );
    const first = await orch('apply', '*', '--test', '--accept-new-hostkeys', '--no-progress');
    assert.equal(first.code, 0, first.stdout + first.stderr);
  });
  after(async () => {
    await sshd?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const noSecret = (text: string) => {
    assert.ok(!text.includes(SECRET), 'the secret is masked');
    assert.ok(!text.includes(Buffer.from(SECRET).toString('hex')), 'its hex form too');
  };

  it('-v lists clean states, without it they are left out', async () => {
    const quiet = await orch('apply', '*', '--test');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stdout, /clean_one/);
    assert.match(quiet.stdout, /WOULD_CHANGE\s+cmd\.run uses_secret/);
    const loud = await orch('apply', '*', '--test', '-v');
    assert.match(loud.stdout, /CLEAN\s+cmd\.run clean_one/);
    assert.doesNotMatch(loud.stdout, /phases:/);
  });

  it('-vv shows each phase of the host with its time', async () => {
    const r = await orch('apply', '*', '-vv');
    assert.equal(r.code, 0, r.stderr);
    const m = /phases: (.*)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const names = [...m[1]!.matchAll(/(\w+) (\d+(?:\.\d+)?m?s)/g)].map((x) => x[1]);
    assert.deepEqual(names, ['connecting', 'facts', 'compiling', 'waiting', 'checking', 'applying']);
    noSecret(r.stdout);
    const json = parseJson<{ hosts: { phases: { phase: string; ms: number }[] }[] }>(
      await orch('-o', 'json', 'apply', '*', '--test'),
    );
    assert.deepEqual(
      json.hosts[0]!.phases.map((p) => p.phase),
      ['connecting', 'facts', 'compiling', 'waiting', 'checking'],
    );
    assert.ok(json.hosts[0]!.phases.every((p) => Number.isInteger(p.ms) && p.ms >= 0));
  });

  it('--debug prints the generated scripts and the raw framed output, masked', async () => {
    const r = await orch('--debug', 'apply', '*', '--no-progress');
    assert.equal(r.code, 0, r.stderr);
    for (const h of ['check script', 'check output (raw)', 'apply script', 'apply output (raw)'])
      assert.match(r.stderr, new RegExp(`orch: debug: dbg\\.example\\.com: ${h.replace(/[()]/g, '\\$&')}:`));
    assert.match(r.stderr, /\| .*@@ORCH:[0-9a-f]+:/, 'the framing markers are shown');
    assert.match(r.stderr, /\*{8}/, 'the secret appears masked');
    noSecret(r.stderr);
    noSecret(r.stdout);
  });

  it('render --script check|apply prints the batch that would run, masked', async () => {
    const check = await orch('render', 'dbg.example.com', '--script', 'check');
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^#!\/bin\/sh|orch_kv|@@ORCH/m);
    assert.doesNotMatch(check.stdout, /# ---- execution order/);
    const apply = await orch('render', 'dbg.example.com', '--script', 'apply');
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /orch_begin 1\n/, 'the apply step of uses_secret');
    assert.match(apply.stdout, /\*{8}/);
    noSecret(check.stdout);
    noSecret(apply.stdout);
    const json = parseJson<{ phase: string; script: string }>(
      await orch('-o', 'json', 'render', 'dbg.example.com', '--script', 'check'),
    );
    assert.equal(json.phase, 'check');
    assert.match(json.script, /@@ORCH/);
    const bad = await orch('render', 'dbg.example.com', '--script', 'both');
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /Allowed choices are check, apply/);
  });
});
