import { strict as assert } from 'node:assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../../src/errors.js';
import { lineOf, loadYamlFile, parseYaml, secretSource } from '../../../src/render/yaml.js';
import { SecretRef } from '../../../src/secrets/ref.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/render/yaml');

function yamlError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.code, 'YAML_ERROR');
    return err;
  }
  assert.fail('expected a YAML error');
}

describe('render/yaml', () => {
  it('names file and 1-based line of a bad indentation', () => {
    const err = yamlError(() =>
      loadYamlFile(path.join(fixtures, 'bad-indent.yaml'), { display: 'pillar/bad.yaml' }),
    );
    assert.equal(err.file, 'pillar/bad.yaml');
    assert.equal(err.line, 4);
    assert.match(err.message, /^pillar\/bad\.yaml:4: bad indentation/);
  });

  it('rejects a duplicate key on the line of the second occurrence', () => {
    const err = yamlError(() =>
      loadYamlFile(path.join(fixtures, 'dup-key.yaml'), { display: 'dup-key.yaml' }),
    );
    assert.equal(err.line, 6);
    assert.match(err.message, /duplicated mapping key/);
  });

  it('uses the YAML 1.2 core schema: yes/on/off/NO stay strings, 0644 is 644, 0o644 is octal', () => {
    const doc = loadYamlFile(path.join(fixtures, 'scalars.yaml')) as Record<string, unknown>;
    assert.equal(doc.answer, 'yes');
    assert.equal(doc.switch, 'on');
    assert.equal(doc.off_word, 'off');
    assert.equal(doc.norway, 'NO');
    assert.equal(doc.quoted_mode, '0644');
    assert.equal(doc.unquoted_mode, 644);
    assert.equal(doc.octal_mode, 0o644);
    assert.equal(doc.nothing, null);
    assert.equal(doc.truth, true);
    assert.equal(doc.secret_looking, '!secret not-a-tag');
  });

  it('builds a SecretRef from !secret when secrets are allowed, and remembers its file', () => {
    const file = path.join(fixtures, 'secret.yaml');
    const doc = loadYamlFile(file, { secrets: true, display: 'pillar/secret.yaml' }) as {
      postgres: { replication: { user: string; password: unknown } };
    };
    const ref = doc.postgres.replication.password;
    assert.ok(ref instanceof SecretRef);
    assert.equal(ref.ciphertext, 'YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOQ==');
    assert.equal(secretSource(ref), 'pillar/secret.yaml');
    assert.equal(JSON.stringify(doc.postgres.replication), '{"user":"replicator","password":"<secret>"}');
  });

  it('refuses !secret outside pillar files, naming the line', () => {
    const err = yamlError(() =>
      loadYamlFile(path.join(fixtures, 'secret.yaml'), { display: 'states/x.yaml' }),
    );
    assert.equal(err.line, 4);
    assert.match(err.message, /only allowed in pillar files/);
  });

  it('records the line of each mapping, list and key', () => {
    const text = [
      '# comment',
      'hosts:',
      '  a.example.com:',
      '    port: 22',
      '    groups:',
      '      - db',
      '      - web',
      '',
    ].join('\n');
    const doc = parseYaml(text, 'x.yaml') as { hosts: Record<string, { port: number; groups: string[] }> };
    const host = doc.hosts['a.example.com']!;
    assert.equal(lineOf(doc, 'hosts'), 2);
    assert.equal(lineOf(doc.hosts, 'a.example.com'), 3);
    assert.equal(lineOf(host), 3);
    assert.equal(lineOf(host, 'port'), 4);
    assert.equal(lineOf(host, 'groups'), 5);
    assert.equal(lineOf(host.groups, 1), 7);
    assert.equal(lineOf(host, 'nope'), 3, 'an unknown key falls back to the line of its object');
  });

  it('gives null for an empty document and refuses several documents', () => {
    assert.equal(parseYaml('# nothing\n', 'e.yaml'), null);
    const err = yamlError(() => parseYaml('a: 1\n---\nb: 2\n', 'multi.yaml'));
    assert.equal(err.file, 'multi.yaml');
  });

  it('reports a missing file as an InputError', () => {
    const err = yamlError(() => loadYamlFile(path.join(fixtures, 'nope.yaml'), { display: 'nope.yaml' }));
    assert.match(err.message, /nope\.yaml: file not found/);
  });
});
