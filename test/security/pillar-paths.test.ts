// Pillar files stay inside pillar/, like state files and templates (template-paths.test.ts): a pillar file that is
// a symlink to a file elsewhere on the controller, or one under a symlinked directory, is refused naming the top
// file and line, and the outside file's text never reaches the pillar or the message.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { InputError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { compilePillar } from '../../src/pillar/load.js';

const OUTSIDE = 'leaked: text-from-outside-the-project\n';

describe('security: pillar files stay inside pillar/', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-pillar-paths-'));
    for (const d of ['inventory', 'pillar/sub', 'states', 'outside'])
      mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(
      path.join(root, 'inventory', 'hosts.yaml'),
      'hosts:\n  db1.example.com:\n    address: 127.0.0.1\n',
    );
    writeFileSync(path.join(root, 'outside', 'x.yaml'), OUTSIDE);
    writeFileSync(path.join(root, 'pillar', 'sub', 'ok.yaml'), 'fine: true\n');
    writeFileSync(path.join(root, 'pillar', 'base.yaml'), 'base: 1\n');
    symlinkSync(path.join(root, 'outside', 'x.yaml'), path.join(root, 'pillar', 'link.yaml'));
    symlinkSync(path.join(root, 'outside'), path.join(root, 'pillar', 'linkdir'));
    // A link that stays inside is fine.
    symlinkSync(path.join(root, 'pillar', 'base.yaml'), path.join(root, 'pillar', 'alias.yaml'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const compile = (names: string[]) => {
    writeFileSync(path.join(root, 'pillar', 'top.yaml'), `'*':\n${names.map((n) => `  - ${n}\n`).join('')}`);
    const project = loadProject({ root });
    return compilePillar(project, loadInventory(project).hosts.get('db1.example.com')!);
  };

  for (const [what, name] of [
    ['a symlink to a file outside', 'link'],
    ['a file under a symlinked directory', 'linkdir.x'],
  ] as const) {
    it(`refuses ${what}, naming the top file and line`, async () => {
      const err = await compile(['base', name]).then(
        () => assert.fail('compiled'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof InputError, String(err));
      assert.match(
        err.message,
        new RegExp(`pillar file ${name.replace('.', '\\.')} resolves outside pillar/`),
      );
      assert.equal(err.file, 'pillar/top.yaml');
      assert.equal(err.line, 1, 'the line of the target that names it');
      assert.ok(!err.message.includes('text-from-outside'), err.message);
    });
  }

  it('pillar files inside, through a directory or a link that stays inside, still load', async () => {
    const pillar = await compile(['base', 'sub.ok', 'alias']);
    assert.equal(pillar.base, 1);
    assert.equal(pillar.fine, true);
  });
});
