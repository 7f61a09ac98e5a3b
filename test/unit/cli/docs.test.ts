// The generated reference pages are current: docs/STATES.md, EXIT-CODES.md, INVENTORY.md and ORCH-YAML.md must
// equal what `npm run docs` writes from the schemas and src/errors/codes.ts; the reference reads the engine's own
// schemas; the README links every page.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { generatedDocs } from '../../../src/cli/format/docs.js';
import { buildSettingsSchema } from '../../../src/config/settings-schema.js';
import { buildInventorySchemas } from '../../../src/inventory/schema.js';
import { ERROR_CODES } from '../../../src/errors/codes.js';
import { lookupState, stateNames } from '../../../src/states/registry.js';

const settingsSchema = buildSettingsSchema(z);
const { defaultsSchema, groupSchema, hostSchema } = buildInventorySchemas(z);
import { argDocs, stateDoc } from '../../../src/states/reference.js';

const repo = path.resolve(import.meta.dirname, '../../..');

describe('docs: generated reference pages', () => {
  for (const [file, text] of Object.entries(generatedDocs())) {
    it(`${file} is current (run npm run docs)`, () => {
      assert.equal(readFileSync(path.join(repo, file), 'utf8'), text, `${file} is stale: run npm run docs`);
    });
  }

  it('lists every state function and every error code', () => {
    const docs = generatedDocs();
    for (const fn of stateNames())
      assert.match(docs['docs/STATES.md']!, new RegExp(`^## ${fn.replace('.', '\\.')}$`, 'm'));
    for (const code of Object.keys(ERROR_CODES))
      assert.ok(docs['docs/EXIT-CODES.md']!.includes(`\`${code}\``), code);
  });
});

describe('docs: inventory, orch.yaml and the README links', () => {
  it('INVENTORY.md and ORCH-YAML.md list every key their schemas accept', () => {
    const docs = generatedDocs();
    const keys = (schema: z.ZodObject) => Object.keys(schema.shape);
    for (const k of [...keys(defaultsSchema), ...keys(hostSchema.unwrap()), ...keys(groupSchema.unwrap())])
      assert.ok(docs['docs/INVENTORY.md']!.includes(`| \`${k}\` |`), k);
    for (const k of [...keys(settingsSchema), ...keys(settingsSchema.shape.jobs.unwrap())].filter(
      (k) => k !== 'jobs',
    ))
      assert.ok(docs['docs/ORCH-YAML.md']!.includes(`| \`${k}\` |`), k);
  });

  it('the README links every page of docs/', () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    for (const page of readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')))
      assert.ok(readme.includes(`](docs/${page})`) || page === 'ARCHITECTURE.md', page);
  });
});

describe('states/reference', () => {
  it('documents exactly the arguments each schema accepts', () => {
    for (const fn of stateNames()) {
      const schema = lookupState(fn)!.args as z.ZodType;
      const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties: object };
      assert.deepEqual(
        stateDoc(fn).args.map((a) => a.name),
        Object.keys(js.properties),
        fn,
      );
    }
  });

  it('every argument of every state function is described in its schema', () => {
    const undescribed = stateNames().flatMap((fn) =>
      stateDoc(fn)
        .args.filter((a) => a.description.trim() === '')
        .map((a) => `${fn}: ${a.name}`),
    );
    assert.deepEqual(undescribed, []);
  });

  it('reads types, defaults, required and descriptions from the schema', () => {
    const schema = z.strictObject({
      name: z.string(),
      ensure: z.enum(['present', 'absent']).default('present').describe('whether it exists'),
      port: z.number().int(),
      tags: z.array(z.string()).optional(),
    });
    assert.deepEqual(argDocs(schema), [
      { name: 'name', type: 'string', required: false, description: '', default: '(the state id)' },
      {
        name: 'ensure',
        type: 'present | absent',
        required: false,
        description: 'whether it exists',
        default: '"present"',
      },
      { name: 'port', type: 'integer', required: true, description: '' },
      { name: 'tags', type: 'list of string', required: false, description: '' },
    ]);
  });

  it("takes what a function will not touch from its module's comment", () => {
    const d = stateDoc('file.directory');
    assert.match(d.about, /^a directory exists with the given owner, group and mode\./);
    assert.ok(d.untouched.some((s) => /never touches the directory's contents/.test(s)));
    assert.throws(() => stateDoc('file.nope'), /no state function 'file\.nope' \(known: cmd\.run/);
  });
});
