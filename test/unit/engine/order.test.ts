import { strict as assert } from 'node:assert';
import { declsFromDocument } from '../../../src/engine/decl.js';
import { planOrder } from '../../../src/engine/order.js';
import { InputError } from '../../../src/errors.js';
import { lineOf, parseYaml } from '../../../src/render/yaml.js';

function plan(yaml: string) {
  const doc = parseYaml(yaml, 'states/t.yaml');
  return planOrder(declsFromDocument(doc, 'states/t.yaml', lineOf).decls);
}

describe('engine/order', () => {
  it('keeps file order where requisites allow and puts requisites first', () => {
    const p = plan(
      `a:\n  cmd.run: []\nb:\n  cmd.run:\n    - require: [c]\nc:\n  file.managed:\n    - contents: x\n`,
    );
    assert.deepEqual(
      p.map((s) => s.decl.id),
      ['a', 'c', 'b'],
    );
    assert.deepEqual(p[2]!.deps.require, [1]);
  });

  it('accepts Salt list args and a plain map, and defaults name to the id', () => {
    const p = plan(
      `/etc/x:\n  file.managed:\n    - mode: '0644'\n    - contents: hi\nsvc:\n  service.running: {enable: true}\n`,
    );
    assert.deepEqual(p[0]!.decl.args, { mode: '0644', contents: 'hi', name: '/etc/x' });
    assert.deepEqual(p[1]!.decl.args, { enable: true, name: 'svc' });
  });

  it('resolves {module: name-or-id} references and _in forms', () => {
    const p = plan(
      `conf:\n  file.managed:\n    - name: /etc/app.conf\n    - contents: x\n    - watch_in:\n      - service: app\n` +
        `app:\n  service.running:\n    - require:\n      - file: /etc/app.conf\n`,
    );
    const app = p.find((s) => s.decl.id === 'app')!;
    assert.deepEqual(app.deps.watch, [0]);
    assert.deepEqual(app.deps.require, [0]);
  });

  it('names the cycle, with file and line', () => {
    assert.throws(
      () =>
        plan(
          `a:\n  cmd.run:\n    - require: [b]\nb:\n  cmd.run:\n    - require: [c]\nc:\n  cmd.run:\n    - require: [a]\n`,
        ),
      (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.match(err.message, /requisite cycle: cmd: [abc] -> cmd: [abc] -> cmd: [abc] -> cmd: [abc]/);
        assert.match(err.message, /^states\/t\.yaml:\d+: /);
        return true;
      },
    );
  });

  it('refuses a requisite that no state declares, naming the state and line', () => {
    assert.throws(
      () => plan(`a:\n  cmd.run:\n    - require:\n      - file: /nope\n`),
      /t\.yaml:2: state 'a' requires 'file: \/nope', which no state declares/,
    );
  });

  it('refuses malformed declarations', () => {
    assert.throws(() => plan(`a: just a string\n`), /state 'a': expected a mapping/);
    assert.throws(() => plan(`a:\n  notafunction: []\n`), /'notafunction' is not a module.function name/);
    assert.throws(
      () => plan(`a:\n  cmd.run:\n    - name: x\n    - name: y\n`),
      /argument 'name' given twice/,
    );
  });
});
