import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';
import { precheckHost } from '../../../src/engine/precheck.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { createRenderEnv } from '../../../src/render/env.js';

const host: HostSpec = {
  name: 'db1.example.com',
  address: '192.0.2.1',
  port: 22,
  user: 'root',
  groups: ['db'],
  vars: {},
  source: { file: 'inventory/hosts.yaml' },
};

describe('engine/precheck: errors found before connecting', () => {
  let root = '';
  const write = (name: string, text: string): void => writeFileSync(path.join(root, 'states', name), text);
  const check = (only?: string[]): InputError | undefined =>
    precheckHost(root, createRenderEnv(root), host, only);

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-precheck-'));
    mkdirSync(path.join(root, 'states'));
    mkdirSync(path.join(root, 'templates'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reports a template syntax error of a state file the host is assigned', () => {
    write('top.yaml', "'*': [site]\n");
    write('site.yaml', 'motd:\n  cmd.run:\n    - name: {{ grains.os \n');
    const err = check();
    assert.ok(err instanceof InputError);
    assert.equal(err.code, 'TEMPLATE_ERROR');
    assert.equal(err.file, 'states/site.yaml');
    assert.equal(err.host, 'db1.example.com');
  });

  it('reports a YAML error of a file without markup, and of the files it includes', () => {
    write('top.yaml', 'group:db: [site]\n');
    write('site.yaml', 'include: [broken]\nmotd:\n  cmd.run:\n    - name: "true"\n');
    write('broken.yaml', 'a:\n  - b\n c: [\n');
    const err = check();
    assert.ok(err instanceof InputError);
    assert.equal(err.code, 'YAML_ERROR');
    assert.equal(err.file, 'states/broken.yaml');
    assert.match(err.message, /\[host db1\.example\.com\]/);
  });

  it('reports a YAML error of the top file', () => {
    write('top.yaml', "'*': [site\n");
    const err = check();
    assert.equal(err?.code, 'YAML_ERROR');
    assert.equal(err?.file, 'states/top.yaml');
  });

  it('checks the named state files instead of the top file', () => {
    write('top.yaml', "'*': [\n");
    write('only.yaml', 'x: {% if %}\n');
    const err = check(['only']);
    assert.equal(err?.code, 'TEMPLATE_ERROR');
    assert.equal(err?.file, 'states/only.yaml');
  });

  it('gives no error that facts could change: files of fact targets, YAML of templated files', () => {
    write('top.yaml', "'os=FreeBSD': [bsd]\n'*': [site]\n'a,,b': [site]\nother.example.com: [other]\n");
    write('bsd.yaml', '{% if %}\n'); // only for FreeBSD hosts: whether it loads depends on facts
    write('other.yaml', '{% if %}\n'); // another host's
    // Not YAML as written, but what it renders to depends on facts.
    write('site.yaml', "{% if grains.os == 'Debian' %}\na: 1\n{% else %}\na: [\n{% endif %}\n");
    assert.equal(check(), undefined);
  });

  it('checks a file once per run: a file found clean for one host is not read again for the next', () => {
    write('top.yaml', "'*': [site]\n");
    write('site.yaml', 'motd:\n  cmd.run:\n    - name: "true"\n');
    const clean = new Set<string>();
    const env = createRenderEnv(root);
    assert.equal(precheckHost(root, env, host, undefined, clean), undefined);
    assert.deepEqual([...clean], ['site']);
    write('site.yaml', '{% if %}\n'); // not read again within the run
    assert.equal(precheckHost(root, env, { ...host, name: 'db2.example.com' }, undefined, clean), undefined);
    assert.equal(precheckHost(root, env, host)?.code, 'TEMPLATE_ERROR');
  });

  it('leaves a missing top file or state file to the compile (it names the including file)', () => {
    assert.equal(check(), undefined);
    write('top.yaml', "'*': [nosuch]\n");
    assert.equal(check(), undefined);
  });
});
