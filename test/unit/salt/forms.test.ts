// Each Salt declaration form and Jinja helper against what Salt documents it to mean:
// - declarations: https://docs.saltproject.io/en/3006/ref/states/highstate.html (ID, state, function and name
//   declarations; "the function declaration can be written inline" as `httpd: pkg.installed`; a state declaration
//   "a list which contains one string defining the function declaration and any number of function arg
//   declaration dictionaries"; the ID is the name when no name declaration is given)
// - salt['pillar.get']: https://docs.saltproject.io/en/3007/ref/modules/all/salt.modules.pillar.html (colon path,
//   default '' when missing, merge=True merges the default under the value)
// - grains.filter_by: https://docs.saltproject.io/en/3007/ref/modules/all/salt.modules.grains.html (lookup by
//   grain, default 'default', grain 'os_family', merge over the result, base under it)
// - modes: salt's YAML loader reads 0750 as 750 and states pad the digits (salt.utils.files.normalize_mode)
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { OrchError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { declsFromDocument } from '../../../src/engine/decl.js';
import { lineOf, parseYaml } from '../../../src/render/yaml.js';
import { filterBy, saltContext } from '../../../src/salt/context.js';
import { jinjaCompat } from '../../../src/salt/env.js';
import { relativeSls, translateSls } from '../../../src/salt/translate.js';

function decls(yaml: string) {
  const t = translateSls(parseYaml(yaml, 'x.sls'), { file: 'x.sls', lineOf, sls: 'x' });
  assert.deepEqual(t.findings, []);
  return declsFromDocument(t.doc, 'x.sls', t.lineOf).decls.map((d) => ({ id: d.id, fn: d.fn, args: d.args }));
}

describe('salt: declaration forms (highstate data structure)', () => {
  const forms: {
    form: string;
    yaml: string;
    want: { id: string; fn: string; args: Record<string, unknown> }[];
  }[] = [
    {
      form: 'inline function declaration (bare string)',
      yaml: 'httpd:\n  pkg.installed\n',
      want: [{ id: 'httpd', fn: 'pkg.installed', args: { name: 'httpd' } }],
    },
    {
      form: 'function key with an empty list',
      yaml: 'httpd:\n  pkg.installed: []\n',
      want: [{ id: 'httpd', fn: 'pkg.installed', args: { name: 'httpd' } }],
    },
    {
      form: 'function key with a list of one-key maps',
      yaml: 'web:\n  pkg.installed:\n    - name: apache2\n    - refresh: True\n',
      want: [{ id: 'web', fn: 'pkg.installed', args: { name: 'apache2', refresh: true } }],
    },
    {
      form: 'module key, function as a string item of its list',
      yaml: 'web:\n  pkg:\n    - installed\n    - name: apache2\n',
      want: [{ id: 'web', fn: 'pkg.installed', args: { name: 'apache2' } }],
    },
    {
      form: 'a list body with its function as an item',
      yaml: 'httpd:\n  - pkg.installed\n  - refresh: True\n',
      want: [{ id: 'httpd', fn: 'pkg.installed', args: { name: 'httpd', refresh: true } }],
    },
    {
      form: 'name-as-id with two modules under one id',
      yaml: 'nginx:\n  pkg.installed: []\n  service.running:\n    - enable: True\n',
      want: [
        { id: 'nginx', fn: 'pkg.installed', args: { name: 'nginx' } },
        { id: 'nginx', fn: 'service.running', args: { name: 'nginx', enable: true } },
      ],
    },
    {
      form: 'unquoted integer modes, as Salt reads them',
      yaml: '/d:\n  file.directory:\n    - mode: 750\n/e:\n  file.directory:\n    - mode: 0750\n/f:\n  file.directory:\n    - mode: 44\n',
      want: [
        { id: '/d', fn: 'file.directory', args: { name: '/d', mode: '0750' } },
        { id: '/e', fn: 'file.directory', args: { name: '/e', mode: '0750' } },
        { id: '/f', fn: 'file.directory', args: { name: '/f', mode: '0044' } },
      ],
    },
    {
      form: 'pkgs as the list of names',
      yaml: 'pg:\n  pkg.installed:\n    - pkgs: [postgresql, postgresql-client]\n',
      want: [
        { id: 'pg', fn: 'pkg.installed', args: { name: 'pg', names: ['postgresql', 'postgresql-client'] } },
      ],
    },
  ];
  for (const f of forms) {
    it(f.form, () => assert.deepEqual(decls(f.yaml), f.want));
  }

  it('requisites in Salt form are orch requisites', () => {
    const t = translateSls(
      parseYaml(
        'a:\n  pkg.installed: []\nb:\n  file.managed:\n    - contents: x\n    - require:\n      - pkg: a\n',
        'x.sls',
      ),
      { file: 'x.sls', lineOf, sls: 'x' },
    );
    const b = declsFromDocument(t.doc, 'x.sls', t.lineOf).decls.find((d) => d.id === 'b')!;
    assert.deepEqual(b.requisites.require, [{ module: 'pkg', target: 'a' }]);
  });

  it('a list body without a module function is refused, as Salt refuses it', () => {
    assert.throws(
      () =>
        translateSls(parseYaml('/root/.pgpass:\n  - managed\n  - user: postgres\n', 'x.sls'), {
          file: 'x.sls',
          lineOf,
          sls: 'x',
        }),
      /state '\/root\/.pgpass': a list body needs exactly one module.function item/,
    );
  });

  it('relative includes resolve against the including sls', () => {
    assert.equal(relativeSls('.server', 'postgres'), 'postgres.server');
    assert.equal(relativeSls('..common', 'postgres.server'), 'postgres.common');
    assert.equal(relativeSls('nginx', 'postgres'), 'nginx');
  });

  it('file.managed: salt:// source read, rendered only with template: jinja, context and defaults as variables', () => {
    const seen: unknown[] = [];
    const t = translateSls(
      parseYaml(
        '/a:\n  file.managed:\n    - source: salt://x/a\n    - template: jinja\n    - defaults: {k: 1, j: 2}\n    - context: {k: 3}\n/b:\n  file.managed:\n    - source: [salt://missing, salt://x/b]\n',
        'x.sls',
      ),
      {
        file: 'x.sls',
        lineOf,
        sls: 'x',
        exists: (u) => u !== 'salt://missing',
        source: (req) => {
          seen.push(req);
          return `text of ${req.url}`;
        },
      },
    );
    const doc = t.doc as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(doc['/a']!['file.managed']!.contents, 'text of salt://x/a');
    assert.equal(doc['/b']!['file.managed']!.contents, 'text of salt://x/b');
    assert.deepEqual(
      seen.map((s) => {
        const r = s as { url: string; template: boolean; vars: unknown };
        return [r.url, r.template, r.vars];
      }),
      [
        ['salt://x/a', true, { k: 3, j: 2 }],
        ['salt://x/b', false, {}],
      ],
    );
  });
});

describe('salt: Jinja names (rendered with nunjucks)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'orch-salt-jinja-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const facts: Facts = {
    ...parseFacts(''),
    osFamily: 'Debian',
    distro: 'debian',
    osVersion: '12.5',
    kernel: 'Linux',
  };
  const pillar = {
    secrets: { replica: { name: 'replica' } },
    list: ['a', 'b'],
    apache: { lookup: { pkg: 'apache_13' } },
  };
  const env = new nunjucks.Environment(null, { throwOnUndefined: true, autoescape: false });
  const render = (t: string) =>
    env.renderString(
      jinjaCompat(t),
      saltContext({ host: 'db1', pillar, facts, saltenv: 'base', sls: 'postgres.server' }),
    );

  const cases: [string, string, string][] = [
    ["salt['pillar.get'] walks a colon path", "{{ salt['pillar.get']('secrets:replica:name') }}", 'replica'],
    ["salt['pillar.get'] default is '' when missing", "[{{ salt['pillar.get']('secrets:nope') }}]", '[]'],
    ["salt['pillar.get'] positional default", "{{ salt['pillar.get']('nope', 'dflt') }}", 'dflt'],
    ["salt['pillar.get'] keyword default", "{{ salt['pillar.get']('nope', default='kw') }}", 'kw'],
    ["salt['pillar.get'] indexes lists", "{{ salt['pillar.get']('list:1') }}", 'b'],
    [
      "salt['pillar.get'] merge=True merges the default under the value",
      "{% set a = salt['pillar.get']('apache:lookup', default={'pkg': 'httpd', 'srv': 'httpd'}, merge=True) %}{{ a.pkg }} {{ a.srv }}",
      'apache_13 httpd',
    ],
    ['pillar.get is dict.get (no colon walk)', "{{ pillar.get('secrets:replica:name', 'none') }}", 'none'],
    ['pillar.get of a top key', "{{ pillar.get('secrets').replica.name }}", 'replica'],
    ["pillar['x'] item lookup", "{{ pillar['secrets']['replica']['name'] }}", 'replica'],
    ["grains['os']", "{{ grains['os'] }}", 'Debian'],
    ['grains.get with a default', "{{ grains.get('os_family') }} {{ grains.get('nope', 'x') }}", 'Debian x'],
    ["salt['grains.get']", "{{ salt['grains.get']('osmajorrelease') }}", '12'],
    [
      "salt['grains.filter_by'] (map.jinja, trailing commas as Jinja allows)",
      "{% set m = salt['grains.filter_by']({'Debian': {'pkg': 'postgresql'}, 'FreeBSD': {'pkg': 'postgres14-server'},}) %}{{ m.pkg }}",
      'postgresql',
    ],
    [
      'grains.filter_by through the dict, with default and merge',
      "{% set m = grains.filter_by({'RedHat': {'a': 1}, 'default': {'a': 2, 'b': 3}}, merge={'b': 4}) %}{{ m.a }}{{ m.b }}",
      '24',
    ],
    [
      "salt['config.get'] finds opts, grains, then pillar",
      "{{ salt['config.get']('id') }} {{ salt['config.get']('os') }}",
      'db1 Debian',
    ],
    [
      'opts and sls',
      '{{ opts.id }} {{ saltenv }} {{ sls }} {{ slspath }}',
      'db1 base postgres.server postgres',
    ],
  ];
  for (const [what, tpl, want] of cases) it(what, () => assert.equal(render(tpl), want));

  it("slspath of a directory's init.sls is that directory", () => {
    const ctx = saltContext({
      host: 'db1',
      pillar,
      facts,
      saltenv: 'base',
      sls: 'postgres.server',
      init: true,
    });
    assert.equal(env.renderString('{{ slspath }} {{ tpldir }}', ctx), 'postgres/server postgres/server');
  });

  it("pillar['missing'] is an error naming the key (Salt's StrictUndefined)", () => {
    assert.throws(
      () => render("{{ pillar['secrets']['nope'] }}"),
      /pillar key 'secrets:nope' is not defined for host db1/,
    );
  });

  it('an execution function orch does not offer is an error naming it', () => {
    assert.throws(() => render("{{ salt['cmd.run']('id') }}"), /salt\['cmd.run'\] is not available/);
  });

  it('filter_by follows salt.modules.grains.filter_by', () => {
    const grains = { os_family: 'MockedOS', '1': '1', roles: ['A', 'B'] };
    const table = { default: { A: 'B', C: { D: 'E' } }, '1': { A: 'X' }, MockedOS: { A: 'Z' } };
    assert.deepEqual(filterBy(grains, table), { A: 'Z' });
    assert.deepEqual(filterBy(grains, table, 'nope'), { A: 'B', C: { D: 'E' } });
    assert.equal(filterBy(grains, { x: 1 }, 'nope'), null);
    assert.deepEqual(filterBy(grains, table, '1', null, 'default', 'default'), { A: 'X', C: { D: 'E' } });
    assert.deepEqual(filterBy(grains, { A: 1, B: 2 }, 'roles'), 1);
    assert.throws(() => filterBy(grains, 'x'), OrchError);
  });
});
