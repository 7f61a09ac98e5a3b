// Template paths stay inside the project's templates/ (and states/). Nunjucks' own loader compared unresolved
// path strings by prefix, so `../templates-evil/x` (a sibling whose name starts with "templates") and a symlink
// pointing out of the tree were both read. The loader now resolves real paths and compares by path segment; the
// refusal names the state, the file and line, and the host. Every way in is covered: a state's `source:`, and
// include/import/extends inside a template.
import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { isInside } from '../../src/render/loader.js';
import { Project, state } from '../unit/states/helpers.js';
import { testHost } from '../helpers/local-connection.js';

const SECRET_TEXT = 'outside the project tree\n';

describe('security: template paths stay inside templates/', () => {
  let p: Project;
  beforeEach(() => {
    p = new Project();
    // A sibling of templates/ whose name starts with "templates", and a directory outside the project.
    mkdirSync(path.join(p.root, 'templates-evil'));
    writeFileSync(path.join(p.root, 'templates-evil', 'x'), SECRET_TEXT);
    mkdirSync(path.join(p.root, 'outside'));
    writeFileSync(path.join(p.root, 'outside', 'secret'), SECRET_TEXT);
    symlinkSync(path.join(p.root, 'outside', 'secret'), path.join(p.root, 'templates', 'link'));
    symlinkSync(path.join(p.root, 'outside'), path.join(p.root, 'templates', 'linkdir'));
    mkdirSync(path.join(p.root, 'templates', 'app', 'conf'), { recursive: true });
    writeFileSync(
      path.join(p.root, 'templates', 'app', 'conf', 'main.njk'),
      'main {{ host }}\n{% include "app/part.njk" %}',
    );
    writeFileSync(path.join(p.root, 'templates', 'app', 'part.njk'), 'part\n');
  });
  afterEach(() => p.cleanup());

  const managed = (source: string) => state('victim', 'file.managed', { name: p.path('out'), source });

  /** Compile and return the refusal (fails when it compiles). */
  function refusal(): InputError {
    try {
      p.compile();
    } catch (err) {
      assert.ok(err instanceof InputError, String(err));
      return err;
    }
    throw new Error('compiled, but the template path should have been refused');
  }

  const escapes: [string, string][] = [
    ['a prefix sibling (templates-evil/)', '../templates-evil/x'],
    ['a symlink to a file outside', 'link'],
    ['a file under a symlinked directory', 'linkdir/secret'],
    ['an absolute path', path.join('/proc/self/root', p0('outside/secret'))],
  ];

  for (const [what, source] of escapes) {
    it(`source: refuses ${what}, naming state, file:line and host`, () => {
      p.states(managed(source.replace('__ROOT__', p.root)));
      const err = refusal();
      assert.match(err.message, /resolves outside templates\//);
      assert.match(err.message, /state 'victim' file\.managed \(states\/site\.yaml:\d+\)/);
      assert.ok(err.message.includes(`host ${testHost().name}`), err.message);
      assert.ok(!err.message.includes(SECRET_TEXT.trim()), 'the file was not read into the message');
    });
  }

  it('include inside a template is refused the same way (prefix sibling and symlink)', () => {
    for (const target of ['../templates-evil/x', 'link', './linkdir/secret']) {
      writeFileSync(path.join(p.root, 'templates', 'inc.njk'), `before\n{% include "${target}" %}\n`);
      p.states(managed('inc.njk'));
      const err = refusal();
      assert.match(err.message, /resolves outside templates\//, target);
      assert.equal(err.file, 'templates/inc.njk');
      assert.equal(err.line, 2);
    }
  });

  it('extends and import inside a template are refused too', () => {
    writeFileSync(path.join(p.root, 'templates', 'ext.njk'), '{% extends "../templates-evil/x" %}');
    p.states(managed('ext.njk'));
    assert.match(refusal().message, /resolves outside templates\//);
    writeFileSync(path.join(p.root, 'templates', 'imp.njk'), '{% import "link" as m %}x');
    p.states(managed('imp.njk'));
    assert.match(refusal().message, /resolves outside templates\//);
  });

  it('a state file cannot include a template from outside either (state files render through the same loader)', () => {
    writeFileSync(path.join(p.root, 'states', 'top.yaml'), "'*': [site]\n");
    for (const target of ['link', 'linkdir/secret', '../templates-evil/x', `${p.root}/templates-evil/x`]) {
      writeFileSync(path.join(p.root, 'states', 'site.yaml'), `# site\n{% include "${target}" %}\n`);
      const err = refusal();
      // A relative name from a state file resolves against the working directory: never found, or refused.
      assert.match(err.message, /resolves outside|template not found/, target);
      assert.ok(!err.message.includes(SECRET_TEXT.trim()));
      assert.equal(err.file, 'states/site.yaml');
      if (/resolves outside/.test(err.message)) assert.equal(err.line, 2, `${target}: ${err.message}`);
    }
  });

  it('a state include: that is a symlink out of states/ is refused', () => {
    writeFileSync(path.join(p.root, 'outside', 'evil.yaml'), 'pwned:\n  cmd.run:\n    - name: id\n');
    symlinkSync(path.join(p.root, 'outside', 'evil.yaml'), path.join(p.root, 'states', 'evil.yaml'));
    writeFileSync(path.join(p.root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(path.join(p.root, 'states', 'site.yaml'), 'include:\n  - evil\n');
    const err = refusal();
    assert.match(err.message, /include 'evil': state file 'evil' resolves outside states\//);
    assert.equal(err.file, 'states/site.yaml');
    assert.equal(err.line, 1);
    assert.ok(err.message.includes(`host ${testHost().name}`));
  });

  it('a normal nested template with an include still renders', () => {
    p.states(managed('app/conf/main.njk'));
    const c = p.compile();
    assert.equal((c.states[0]!.prepared as { content: string }).content, `main ${testHost().name}\npart\n`);
  });

  it('isInside compares by path segment', () => {
    assert.equal(isInside('/p/templates', '/p/templates'), true);
    assert.equal(isInside('/p/templates', '/p/templates/a/b'), true);
    assert.equal(isInside('/p/templates', '/p/templates-evil/x'), false);
    assert.equal(isInside('/p/templates', '/p/templatesx'), false);
    assert.equal(isInside('/p/templates', '/p'), false);
    assert.equal(isInside('/p/templates', '/p/templates/..x'), true);
  });
});

// An absolute path to the same file outside (resolved at run time in the test body through __ROOT__).
function p0(rel: string): string {
  return path.join('__ROOT__', rel);
}
