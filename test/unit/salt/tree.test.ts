// A Salt tree through orch's compile: the seed 003 tree (test/fixtures/salt-seed) as a Salt user on Debian or FreeBSD
// has it, top.sls environments and --saltenv, grain targets, salt:// confinement, and the unsupported-construct
// report (`orch salt check`) with the same constructs as compile errors naming file, line, state and host.
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../../src/config/project.js';
import { compileHost } from '../../../src/engine/compile.js';
import { precheckHost } from '../../../src/engine/precheck.js';
import { eachError, InputError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { createRenderEnv } from '../../../src/render/env.js';
import { checkTree } from '../../../src/salt/check.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const SEED = path.join(REPO_ROOT, 'test/fixtures/salt-seed');
const UNSUPPORTED = path.join(REPO_ROOT, 'test/fixtures/salt-unsupported');
const host = (name = 'replica.example.com'): HostSpec => ({
  name,
  address: '127.0.0.1',
  port: 22,
  user: 'root',
  groups: [],
  vars: {},
  source: { file: 'inventory/hosts.yaml' },
});
const debian: Facts = {
  ...parseFacts(''),
  osFamily: 'Debian',
  distro: 'debian',
  osVersion: '12',
  kernel: 'Linux',
};
const freebsd: Facts = {
  ...parseFacts(''),
  osFamily: 'FreeBSD',
  distro: 'freebsd',
  osVersion: '13.2',
  kernel: 'FreeBSD',
};

async function compileTree(root: string, facts: Facts, opts: { saltenv?: string; name?: string } = {}) {
  const h = host(opts.name);
  const pillar = await compilePillar(loadProject({ root }), h, { facts });
  return compileHost({ root, env: createRenderEnv(root), host: h, facts, pillar, saltenv: opts.saltenv });
}

function scratch(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'orch-salt-tree-'));
  cpSync(SEED, root, { recursive: true });
  return root;
}

describe('salt: the seed 003 tree compiled as it is', () => {
  it('on Debian: packages from map.jinja, Salt modes, .pgpass from salt:// with pillar/top.sls, the script', async () => {
    const c = await compileTree(SEED, debian);
    const by = Object.fromEntries(c.states.map((s) => [`${s.decl.fn} ${s.decl.id}`, s.args]));
    assert.deepEqual(Object.keys(by), [
      'pkg.installed postgresql-client-15',
      'pkg.installed postgresql-15',
      'file.directory /home/postgres',
      'file.managed /root/.pgpass',
      'cmd.script pg_make_replica',
    ]);
    assert.equal(by['file.directory /home/postgres']!.mode, '0750');
    assert.equal(by['file.directory /home/postgres']!.makedirs, true);
    const pgpass = by['file.managed /root/.pgpass']!;
    assert.equal(pgpass.contents, '*:*:*:replica:secret\n');
    assert.equal(pgpass.mode, '0600');
    assert.equal(pgpass.user, 'postgres');
    const script = by['cmd.script pg_make_replica']!;
    assert.match(
      String(script.contents),
      /^#!\/bin\/sh\n[\s\S]*PG_DOT_PASS_OWNER=\$\(stat -f "%Su" \$PG_PASS\)/,
    );
    assert.equal(script.runas, 'root');
  });

  it('on FreeBSD: the FreeBSD package names of the seed', async () => {
    const c = await compileTree(SEED, freebsd);
    assert.deepEqual(
      c.states.filter((s) => s.decl.fn === 'pkg.installed').map((s) => s.args.name),
      ['postgres14-client', 'postgres14-server'],
    );
  });
});

describe('salt: Jinja that only Salt reads', () => {
  it("a trailing comma and Python's True pass the precheck and compile", async () => {
    const root = scratch();
    try {
      writeFileSync(
        path.join(root, 'states', 'postgres.sls'),
        "{% set m = {'on': True, 'dirs': ['/tmp/a',],} %}\n{% if m.on %}{{ m.dirs[0] }}:\n  file.directory: []\n{% endif %}\n",
      );
      assert.equal(precheckHost(root, createRenderEnv(root), host(), ['postgres']), undefined);
      const c = await compileTree(root, debian);
      assert.deepEqual(
        c.states.map((s) => s.decl.id),
        ['/tmp/a'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('salt: top.sls environments and targets', () => {
  let root: string;
  beforeEach(() => {
    root = scratch();
    writeFileSync(path.join(root, 'states', 'extra.sls'), '/tmp/extra:\n  file.directory: []\n');
    writeFileSync(path.join(root, 'states', 'grainy.sls'), '/tmp/grainy:\n  file.directory: []\n');
    writeFileSync(
      path.join(root, 'states', 'top.sls'),
      "base:\n  '*':\n    - extra\ndev:\n  'replica*':\n    - postgres\n  'os_family:Deb*':\n    - match: grain\n    - grainy\n",
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const ids = (c: Awaited<ReturnType<typeof compileTree>>) => [...new Set(c.states.map((s) => s.decl.id))];

  it('no saltenv: every environment counts (top_file_merging_strategy: merge)', async () => {
    const got = ids(await compileTree(root, debian));
    assert.ok(
      got.includes('/tmp/extra') && got.includes('/root/.pgpass') && got.includes('/tmp/grainy'),
      String(got),
    );
  });
  it('--saltenv dev: only that environment', async () => {
    const got = ids(await compileTree(root, debian, { saltenv: 'dev' }));
    assert.ok(!got.includes('/tmp/extra') && got.includes('/root/.pgpass'), String(got));
  });
  it('a grain target matches on the grains', async () => {
    assert.ok(!ids(await compileTree(root, freebsd, { saltenv: 'dev' })).includes('/tmp/grainy'));
  });
  it('a glob target that names another host', async () => {
    const got = ids(await compileTree(root, freebsd, { saltenv: 'dev', name: 'web1' }));
    assert.deepEqual(got, []);
  });
});

describe('salt: salt:// stays inside the state tree', () => {
  let root: string;
  beforeEach(() => (root = scratch()));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const withSource = (src: string) =>
    writeFileSync(
      path.join(root, 'states', 'postgres.sls'),
      `/root/.pgpass:\n  file.managed:\n    - source: ${src}\n`,
    );

  it('refuses ..', async () => {
    withSource('salt://../pillar/secrets.sls');
    await assert.rejects(
      compileTree(root, debian),
      /state '\/root\/.pgpass': salt:\/\/..\/pillar\/secrets.sls resolves outside states\/ .*refused/,
    );
  });
  it('refuses a symlink out of the tree', async () => {
    mkdirSync(path.join(root, 'outside'));
    writeFileSync(path.join(root, 'outside', 'x'), 'secret');
    symlinkSync(path.join(root, 'outside', 'x'), path.join(root, 'states', 'link'));
    withSource('salt://link');
    await assert.rejects(compileTree(root, debian), /salt:\/\/link resolves outside states\/ .*refused/);
  });
  it('names a missing file with where it looked', async () => {
    withSource('salt://postgres/nope');
    await assert.rejects(
      compileTree(root, debian),
      (e: InputError) =>
        /salt:\/\/postgres\/nope not found \(looked for states\/postgres\/nope\)/.test(e.message) &&
        e.line === 2,
    );
  });
  it('a source without template: jinja is copied as it is', async () => {
    withSource('salt://postgres/.pgpass');
    const c = await compileTree(root, debian);
    assert.equal(
      c.states[0]!.args.contents,
      "*:*:*:{{ salt['pillar.get']('secrets:replica:name') }}:{{ salt['pillar.get']('secrets:replica:password') }}\n",
    );
  });
});

describe('salt: constructs orch cannot run', () => {
  it('orch salt check lists each with file and line, and none for the seed tree', () => {
    const report = checkTree(UNSUPPORTED, createRenderEnv(UNSUPPORTED));
    const got = report.findings.map((f) => `${f.file}:${f.line ?? ''} ${f.state ?? '-'} ${f.construct}`);
    for (const want of [
      'pillar/top.sls:2 - match: pillar',
      'states/top.sls:4 - match: compound',
      'states/top.sls:7 - match: nodegroup',
      "states/web/extra.sls:1 - salt['cmd.run']",
      'states/web/extra.sls:1 - {% do %}',
      'states/web/extra.sls:2 - Salt Jinja tag',
      'states/web/extra.sls:3 - Python method',
      'states/web/extra.sls:5 /tmp/x argument prereq',
      'states/web/extra.sls:6 - filter yaml_encode',
      'states/web/init.sls:1 - include with options',
      'states/web/init.sls:6 nginx argument version',
      'states/web/init.sls:8 nginx argument order',
      'states/web/init.sls:8 nginx require: sls',
      'states/web/init.sls:15 deploy state user.present',
      'states/web/init.sls:19 /etc/nginx/nginx.conf template: mako',
      'states/web/init.sls:19 /etc/nginx/nginx.conf source https',
      'states/web/init.sls:19 /etc/nginx/nginx.conf argument backup',
      'states/web/init.sls:25 /etc/motd argument onfail',
      'states/web/init.sls:25 /etc/motd template: jinja2',
      'states/web/init.sls:31 - extend',
      'states/web/legacy.sls:1 - renderer py',
    ])
      assert.ok(got.includes(want), `missing ${want} in\n${got.join('\n')}`);
    assert.equal(got.length, 21, got.join('\n'));
    assert.deepEqual(checkTree(SEED, createRenderEnv(SEED)).findings, []);
  });

  it('orch apply: the same constructs are compile errors with file, line, state and host', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'orch-salt-unsup-'));
    try {
      cpSync(UNSUPPORTED, root, { recursive: true });
      // The Jinja-level constructs stop rendering first; the shape ones are reported all together.
      writeFileSync(path.join(root, 'states', 'top.sls'), "base:\n  '*':\n    - web.shapes\n");
      const init = path.join(root, 'states', 'web', 'init.sls');
      cpSync(init, path.join(root, 'states', 'web', 'shapes.sls'));
      writeFileSync(path.join(root, 'pillar', 'top.sls'), "base:\n  '*': []\n");
      writeFileSync(path.join(root, 'states', 'web', 'extra.sls'), '/tmp/x:\n  file.directory: []\n');
      const err = await compileTree(root, debian).then(
        () => assert.fail('compiled'),
        (e: unknown) => e,
      );
      const lines = eachError(err).map((e) => {
        const i = e as InputError;
        return `${i.code} ${i.file}:${i.line} ${i.state ?? '-'} ${i.host}`;
      });
      for (const want of [
        'SALT_UNSUPPORTED states/web/shapes.sls:1 - replica.example.com',
        'SALT_UNSUPPORTED states/web/shapes.sls:8 nginx replica.example.com',
        'SALT_UNSUPPORTED states/web/shapes.sls:19 /etc/nginx/nginx.conf replica.example.com',
        'SALT_UNSUPPORTED states/web/shapes.sls:25 /etc/motd replica.example.com',
        'SALT_UNSUPPORTED states/web/shapes.sls:31 - replica.example.com',
      ])
        assert.ok(lines.includes(want), `missing ${want} in\n${lines.join('\n')}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("orch apply: an execution function in a template is an error with the sls's file and line", async () => {
    const root = scratch();
    try {
      writeFileSync(path.join(root, 'states', 'postgres.sls'), "\n{% set x = salt['cmd.run']('id') %}\n");
      await assert.rejects(
        compileTree(root, debian),
        (e: InputError) => e.code === 'SALT_UNSUPPORTED' && e.file === 'states/postgres.sls' && e.line === 2,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
