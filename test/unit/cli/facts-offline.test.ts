// `orch render` and `orch pillar show` without a connection, through the built CLI: facts from a file (--facts) or
// from the cache of the last run, saying which; and with none, saying that the defaults are shown. The hosts listen
// nowhere (127.0.0.1:1), so any connection attempt would fail with exit 3.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { factsCacheFile, writeCachedFacts } from '../../../src/facts/cache.js';
import type { Facts } from '../../../src/facts/types.js';
import { parseJson, runOrch } from '../../helpers/cli.js';

const freebsd: Facts = {
  kernel: 'FreeBSD',
  kernelRelease: '14.1-RELEASE',
  osFamily: 'FreeBSD',
  distro: 'freebsd',
  osVersion: '14.1',
  hostname: 'db1',
  arch: 'amd64',
  init: 'rc.d',
  pkgTool: 'pkg',
  postgresUser: 'postgres',
  postgres: { versions: ['16'], binDirs: { '16': '/usr/local/bin' }, clusters: [], socketDir: '/tmp' },
};

describe('orch render / pillar show: facts offline', function () {
  this.timeout(60_000);
  let root = '';
  let factsFile = '';
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-factsoff-'));
    for (const d of ['inventory', 'states', 'pillar']) mkdirSync(path.join(root, d));
    writeFileSync(
      path.join(root, 'inventory', 'hosts.yaml'),
      'hosts:\n  db1.example.com: { address: 127.0.0.1, port: 1 }\n  db2.example.com: { address: 127.0.0.1, port: 1 }\n',
    );
    writeFileSync(path.join(root, 'pillar', 'top.yaml'), "'*': [os]\n");
    writeFileSync(
      path.join(root, 'pillar', 'os.yaml'),
      [
        "{% if facts_get('osFamily', 'unknown') == 'FreeBSD' %}",
        'service_dir: /usr/local/etc/rc.d',
        '{% else %}',
        'service_dir: /etc/init.d',
        '{% endif %}',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(
      path.join(root, 'states', 'site.yaml'),
      'list:\n  cmd.run:\n    - name: ls {{ pillar.service_dir }}\n',
    );
    // The shape `orch facts <host> -o json` prints.
    factsFile = path.join(root, 'db1-facts.json');
    writeFileSync(
      factsFile,
      JSON.stringify({ hosts: [{ host: 'db1.example.com', ok: true, facts: freebsd }] }),
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('pillar show with no facts known says so instead of silently showing the default branch', async () => {
    const r = await runOrch(['-r', root, 'pillar', 'show', 'db1.example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /service_dir: \/etc\/init\.d/);
    assert.match(r.stderr, /facts of db1\.example\.com: none known .* show their defaults/);
  });

  it('pillar show and render take --facts <file> and connect to nothing', async () => {
    const show = await runOrch(['-r', root, 'pillar', 'show', 'db1.example.com', '--facts', factsFile]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /service_dir: \/usr\/local\/etc\/rc\.d/);
    assert.match(show.stderr, new RegExp(`facts of db1\\.example\\.com: from ${factsFile}`));
    const render = await runOrch([
      '-r',
      root,
      '-o',
      'json',
      'render',
      'db1.example.com',
      '--facts',
      factsFile,
    ]);
    assert.equal(render.code, 0, render.stderr);
    const out = parseJson<{ facts: { kind: string }; states: { args: { name: string } }[] }>(render);
    assert.equal(out.facts.kind, 'file');
    assert.equal(out.states[0]!.args.name, 'ls /usr/local/etc/rc.d');
  });

  it('uses the cached facts of the last run, saying when they were gathered', async () => {
    writeCachedFacts(path.join(root, '.orch'), 'db2.example.com', freebsd, new Date('2026-11-30T10:00:00Z'));
    const file = factsCacheFile(path.join(root, '.orch'), 'db2.example.com');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    const show = await runOrch(['-r', root, 'pillar', 'show', 'db2.example.com']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /rc\.d/);
    assert.match(show.stderr, /cached from the last run \(2026-11-30T10:00:00\.000Z/);
    const render = await runOrch(['-r', root, 'render', 'db2.example.com', '--offline']);
    assert.equal(render.code, 0, render.stderr);
    assert.match(render.stdout, /cmd\.run list/);
    assert.match(render.stderr, /cached from the last run/);
  });

  it('render --offline without a cache, or with a file of other facts, is bad input (exit 4)', async () => {
    const r = await runOrch(['-r', root, 'render', 'db1.example.com', '--offline']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /no cached facts of db1\.example\.com.*orch facts db1\.example\.com/);
    const other = await runOrch(['-r', root, 'render', 'db2.example.com', '--facts', factsFile]);
    assert.equal(other.code, 4, other.stderr);
    assert.match(other.stderr, /no facts of db2\.example\.com in this file/);
  });
});
