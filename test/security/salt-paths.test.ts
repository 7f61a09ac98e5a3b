// salt:// sources of a Salt tree stay inside states/, like templates (template-paths.test.ts): `..` to a prefix
// sibling (states-evil/), a symlink out, a file under a symlinked directory, and include/import inside a jinja
// source are all refused naming the state, file and host; nothing outside is read into a state's contents. A pillar
// value that looks like Jinja is data: it is not rendered again.
import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileHost } from '../../src/engine/compile.js';
import { InputError } from '../../src/errors.js';
import { createRenderEnv } from '../../src/render/env.js';
import { Project } from '../unit/states/helpers.js';
import { testHost } from '../helpers/local-connection.js';

const SECRET_TEXT = 'outside the state tree\n';

describe('security: salt:// paths stay inside states/', () => {
  let p: Project;
  beforeEach(() => {
    p = new Project();
    mkdirSync(path.join(p.root, 'states-evil'));
    writeFileSync(path.join(p.root, 'states-evil', 'x'), SECRET_TEXT);
    mkdirSync(path.join(p.root, 'outside'));
    writeFileSync(path.join(p.root, 'outside', 'secret'), SECRET_TEXT);
    symlinkSync(path.join(p.root, 'outside', 'secret'), path.join(p.root, 'states', 'link'));
    symlinkSync(path.join(p.root, 'outside'), path.join(p.root, 'states', 'linkdir'));
    writeFileSync(path.join(p.root, 'states', 'top.sls'), "base:\n  '*':\n    - site\n");
  });
  afterEach(() => p.cleanup());

  const compile = (sls: string, pillar: Record<string, unknown> = {}) => {
    writeFileSync(path.join(p.root, 'states', 'site.sls'), sls);
    return compileHost({
      root: p.root,
      env: createRenderEnv(p.root),
      host: testHost(),
      facts: p.facts,
      pillar,
    });
  };
  const managed = (source: string, extra = '') =>
    `victim:\n  file.managed:\n    - name: ${p.path('out')}\n    - source: ${source}\n${extra}`;
  const refused = (sls: string): InputError => {
    try {
      const c = compile(sls);
      assert.fail(`compiled: ${JSON.stringify(c.states.map((s) => s.args))}`);
    } catch (err) {
      assert.ok(err instanceof InputError, String(err));
      assert.ok(!err.message.includes(SECRET_TEXT.trim()), err.message);
      assert.equal(err.host, testHost().name);
      return err;
    }
  };

  for (const [what, url] of [
    ['a prefix sibling through ..', 'salt://../states-evil/x'],
    ['a symlink to a file outside', 'salt://link'],
    ['a file under a symlinked directory', 'salt://linkdir/secret'],
    ['an absolute path after salt://', 'salt:///../outside/secret'],
  ] as const) {
    it(`refuses ${what}, naming the state`, () => {
      const err = refused(managed(url));
      assert.match(err.message, /outside states\//);
      assert.match(err.message, /state 'victim'/);
    });
  }

  it('include and import inside a jinja source are confined by the same loader', () => {
    writeFileSync(path.join(p.root, 'states', 'inc.j2'), '{% include "../outside/secret" %}');
    writeFileSync(path.join(p.root, 'states', 'imp.j2'), '{% from "linkdir/secret" import x %}');
    for (const src of ['salt://inc.j2', 'salt://imp.j2']) {
      const err = refused(managed(src, '    - template: jinja\n'));
      assert.match(err.message, /outside|not found/);
    }
  });

  it('a pillar value that looks like Jinja stays data', () => {
    writeFileSync(path.join(p.root, 'states', 'conf.j2'), "{{ salt['pillar.get']('v') }}\n");
    const c = compile(managed('salt://conf.j2', '    - template: jinja\n'), {
      v: "{{ salt['cmd.run']('id') }}",
    });
    assert.equal(c.states[0]!.args.contents, "{{ salt['cmd.run']('id') }}\n");
  });
});
