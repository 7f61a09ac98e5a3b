// `orch init` through the built CLI, as a new user types it: the skeleton, then its next commands, offline as far
// as they go and then against a real sshd (a local one stands in for the example host).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../helpers/cli.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

describe('orch init: a working project skeleton', function () {
  this.timeout(60_000);
  let tmp: string;
  let proj: string;
  let sshd: LocalSshd | undefined;

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-init-'));
    proj = path.join(tmp, 'myproject');
  });
  after(async () => {
    await sshd?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ ORCH_AGE_IDENTITY_FILE: path.join(proj, '.orch', 'identity.txt') });

  it('writes the skeleton, a private identity and prints the next three commands', async () => {
    const r = await runOrch(['init', 'myproject'], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    for (const f of [
      'orch.yaml',
      'inventory/hosts.yaml',
      'states/top.yaml',
      'states/example.yaml',
      'pillar/top.yaml',
    ])
      assert.ok(statSync(path.join(proj, f)).isFile(), f);
    assert.equal(statSync(path.join(proj, '.orch', 'identity.txt')).mode & 0o777, 0o600);
    assert.match(
      readFileSync(path.join(proj, 'pillar', 'example.yaml'), 'utf8'),
      /api_token: !secret [A-Za-z0-9+/=]+/,
    );
    const next = r.stdout
      .split('next:\n')[1]!
      .trim()
      .split('\n')
      .slice(0, 3)
      .map((l) => l.trim());
    assert.equal(next.length, 3);
    assert.equal(next[0], `export ORCH_AGE_IDENTITY_FILE=${path.join(proj, '.orch', 'identity.txt')}`);
    assert.equal(next[1], 'cd myproject && orch pillar show web1.example.com');
  });

  it('refuses to write over a project, changing nothing', async () => {
    const before = readFileSync(path.join(proj, 'pillar', 'example.yaml'), 'utf8');
    const r = await runOrch(['init', proj, '-o', 'json'], { cwd: tmp });
    assert.equal(r.code, 4);
    assert.match(r.stdout + r.stderr, /already holds a project/);
    assert.equal(readFileSync(path.join(proj, 'pillar', 'example.yaml'), 'utf8'), before);
  });

  it('decrypts its own secret with the printed identity: pillar show and secrets check, no host needed', async () => {
    const show = await runOrch(['pillar', 'show', 'web1.example.com', '-o', 'json'], {
      cwd: proj,
      env: env(),
    });
    assert.equal(show.code, 0, show.stderr);
    const out = parseJson<{ pillar?: { example: Record<string, string> }; example?: Record<string, string> }>(
      show,
    );
    const example = out.pillar?.example ?? out.example!;
    assert.equal(example.greeting, 'hello from orch');
    assert.doesNotMatch(example.api_token!, /^[0-9a-f]{32}$/, 'the secret is masked');
    const check = await runOrch(['secrets', 'check'], { cwd: proj, env: env() });
    assert.equal(check.code, 0, check.stderr + check.stdout);
    // Without the identity the pillar cannot be read: exit 4, saying how to get one.
    const none = await runOrch(['pillar', 'show', 'web1.example.com'], {
      cwd: proj,
      env: { ORCH_AGE_IDENTITY_FILE: path.join(tmp, 'missing') },
    });
    assert.equal(none.code, 4);
  });

  it('renders without any host, from facts given in a file', async () => {
    const facts = {
      kernel: 'Linux',
      kernelRelease: '6.1.0',
      osFamily: 'Debian',
      distro: 'debian',
      osVersion: '12',
      hostname: 'web1',
      arch: 'x86_64',
      init: 'systemd',
      pkgTool: 'apt',
      postgresUser: 'postgres',
      postgres: { versions: [], binDirs: {}, clusters: [], socketDir: '/run/postgresql' },
    };
    const file = path.join(tmp, 'web1-facts.json');
    writeFileSync(file, JSON.stringify(facts));
    const r = await runOrch(['render', 'web1.example.com', '--facts', file], { cwd: proj, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# managed by orch: hello from orch/);
    assert.match(r.stdout, /1\. file\.managed example_config/);
    assert.match(r.stderr, /facts of web1\.example\.com: from /);
  });

  it('renders and applies --test against a real host once the inventory points at one', async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    const inv = path.join(proj, 'inventory', 'hosts.yaml');
    writeFileSync(
      inv,
      readFileSync(inv, 'utf8').replace(
        'address: 192.0.2.10',
        `address: 127.0.0.1\n    port: ${sshd.port}\n    identity: ${sshd.clientKey}`,
      ),
    );
    const trust = await runOrch(['hostkeys', 'trust', 'web1.example.com'], { cwd: proj, env: env() });
    assert.equal(trust.code, 0, trust.stderr + trust.stdout);
    const render = await runOrch(['render', 'web1.example.com'], { cwd: proj, env: env() });
    assert.equal(render.code, 0, render.stderr);
    assert.match(render.stdout, /# managed by orch: hello from orch/);
    assert.match(render.stdout, /file\.managed example_config/);
    assert.doesNotMatch(render.stdout, /api_token = [0-9a-f]{32}/, 'the secret is masked in the rendering');
    const test = await runOrch(['apply', 'web1.example.com', '--test', '-o', 'json'], {
      cwd: proj,
      env: env(),
    });
    assert.equal(test.code, 0, test.stderr + test.stdout);
    const report = parseJson<{
      mode: string;
      hosts: { ok: boolean; states: { id: string; status: string }[] }[];
    }>(test);
    assert.equal(report.mode, 'test');
    assert.deepEqual(
      report.hosts[0]!.states.map((s) => [s.id, s.status]),
      [['example_config', 'would_change']],
    );
    // The run cached the host's facts (0600): render works offline from them now, saying so.
    const cache = path.join(proj, '.orch', 'facts', 'web1.example.com.json');
    assert.equal(statSync(cache).mode & 0o777, 0o600);
    await sshd.stop();
    sshd = undefined;
    const offline = await runOrch(['render', 'web1.example.com', '--offline'], { cwd: proj, env: env() });
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /facts of web1\.example\.com: cached from the last run/);
    assert.match(offline.stdout, /# managed by orch: hello from orch/);
  });
});
