import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';
import { createRenderEnv, renderString } from '../../../src/render/env.js';
import { buildRenderContext } from '../../../src/render/context.js';
import { InputError } from '../../../src/errors.js';
import { quoteIdent, quoteLiteral } from '../../../src/sql/quote.js';
import { projectRoot } from './helpers.js';

const hostile = [
  "it's",
  'a b',
  '$(touch /tmp/orch-never)',
  '`id`',
  'back\\slash',
  '',
  'semi;colon',
  'new\nline',
  '"dq"',
  '*',
];
const env = createRenderEnv(projectRoot);
const where = { file: 'states/test.yaml', host: 'h1.example.com' };
const render = (text: string, values: Record<string, unknown> = {}) =>
  renderString(env, text, buildRenderContext({ host: 'h1.example.com', vars: values }), where);

function renderError(text: string, values: Record<string, unknown> = {}): InputError {
  try {
    render(text, values);
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err;
  }
  assert.fail('expected a render error');
}

describe('render/filters', () => {
  it('sh: every hostile word round-trips through a real /bin/sh as one argument', () => {
    for (const word of hostile) {
      const script = render("printf '<%s>' {{ vars.word | sh }} {{ vars.word | sh }}", { word });
      const out = execFileSync('/bin/sh', ['-c', script]).toString();
      assert.equal(out, `<${word}><${word}>`);
    }
  });

  it('sh: numbers are accepted, lists and undefined are refused', () => {
    assert.equal(render('{{ 5432 | sh }}'), '5432');
    assert.match(
      renderError('{{ vars.l | sh }}', { l: ['a'] }).message,
      /sh filter needs a string or number, got a list/,
    );
    assert.equal(renderError('{{ vars.l | sh }}', { l: ['a'] }).code, 'TEMPLATE_ERROR');
  });

  it('sql_ident / sql_literal delegate to src/sql/quote.ts', () => {
    for (const word of hostile) {
      assert.equal(render('{{ vars.w | sql_literal }}', { w: word }), quoteLiteral(word));
      if (word) assert.equal(render('{{ vars.w | sql_ident }}', { w: word }), quoteIdent(word));
    }
    assert.equal(render('{{ "it\'s" | sql_literal }}'), quoteLiteral("it's"));
    assert.match(renderError('{{ "" | sql_ident }}').message, /empty SQL identifier/);
  });

  it('json and yaml round-trip structured values', () => {
    const value = { a: [1, 'two', { three: true }], on: 'yes', mode: '0644', q: "it's: x" };
    assert.deepEqual(JSON.parse(render('{{ vars.v | json }}', { v: value })), value);
    assert.deepEqual(JSON.parse(render('{{ vars.v | json(2) }}', { v: value })), value);
    const dumped = render('{{ vars.v | yaml }}', { v: value });
    assert.deepEqual(yaml.load(dumped, { schema: yaml.CORE_SCHEMA }), value);
    assert.deepEqual(yaml.load(dumped), value, 'YAML 1.1 readers get the same strings (yes/on quoted)');
  });

  it('pgpass escapes backslash and colon so a .pgpass parser reads the field back', () => {
    const field = 'p:a\\ss:w\\:rd';
    const line = render('h:5432:db:u:{{ vars.f | pgpass }}', { f: field });
    // libpq's rule: split on unescaped ':', then drop the escaping backslashes.
    const fields = line.match(/(?:\\.|[^:])+/g)!.map((f) => f.replace(/\\(.)/g, '$1'));
    assert.deepEqual(fields, ['h', '5432', 'db', 'u', field]);
    assert.match(renderError('{{ vars.f | pgpass }}', { f: 'a\nb' }).message, /cannot contain a newline/);
  });

  it('mode accepts octal strings and refuses numbers and garbage', () => {
    assert.equal(render("{{ '0640' | mode }} {{ '755' | mode }}"), '0640 755');
    assert.match(renderError('{{ vars.m | mode }}', { m: 644 }).message, /quoted strings like '0644'/);
    assert.match(renderError("{{ '0689' | mode }}").message, /not an octal file mode/);
  });
});
