import { strict as assert } from 'node:assert';
import { findSecretTokens, replaceSpans } from '../../../src/secrets/pillar-text.js';

describe('secrets/pillar-text', () => {
  const text = [
    '# password: !secret Y29tbWVudGVk',
    'postgres:',
    '  replication:',
    '    user: replicator',
    '    password: !secret YWdlAAAA+/9= # the one',
    '  list: [a, !secret YWdlBBBB]',
    '',
  ].join('\n');

  it('finds tokens outside comments, with lines and offsets', () => {
    const tokens = findSecretTokens(text, 'pillar/x.yaml');
    assert.deepEqual(
      tokens.map((t) => [t.token, t.line]),
      [
        ['YWdlAAAA+/9=', 5],
        ['YWdlBBBB', 6],
      ],
    );
    for (const t of tokens) assert.equal(text.slice(t.start, t.end), t.token);
    assert.equal(text.slice(tokens[0]!.tagStart, tokens[0]!.start), '!secret ');
  });

  it('refuses secret forms it cannot rewrite as text', () => {
    assert.throws(
      () => findSecretTokens('a: !secret "YWdlAAAA"\n', 'f.yaml'),
      /f\.yaml:1: unsupported !secret value/,
    );
    assert.throws(
      () => findSecretTokens('a: !secret |\n  YWdlAAAA\n', 'f.yaml'),
      /unsupported !secret value/,
    );
    assert.throws(() => findSecretTokens('a: "x !secret YWdlAAAA"\n', 'f.yaml'), /unsupported !secret value/);
  });

  it('handles nunjucks pillar files, which are YAML only after rendering', () => {
    const templated = [
      "{% set version = '15' %}",
      '{% if facts.osFamily == "FreeBSD" %}',
      'pw: !secret YWdlAAAA',
      '{% else %}',
      'pw: !secret YWdlBBBB  {# same key in the other branch #}',
      '{% endif %}',
      "v: '{{ version }}'",
      '',
    ].join('\n');
    assert.deepEqual(
      findSecretTokens(templated, 't.yaml').map((t) => t.line),
      [3, 5],
    );
    assert.throws(
      () => findSecretTokens(`${templated}x: !secret "YWdlCCCC"\n`, 't.yaml'),
      /t\.yaml:8: unsupported/,
    );
  });

  it('reports YAML errors by reason and line without quoting the source', () => {
    assert.throws(
      () => findSecretTokens('a: 1\na: !secret sensitiveLooking\n', 'f.yaml'),
      (err: Error) =>
        /^f\.yaml:2: duplicated mapping key/.test(err.message) && !err.message.includes('sensitive'),
    );
  });

  it('replaces spans and nothing else', () => {
    assert.equal(
      replaceSpans('abcdef', [
        { start: 4, end: 5, text: 'E' },
        { start: 0, end: 1, text: 'AA' },
      ]),
      'AAbcdEf',
    );
    assert.throws(
      () =>
        replaceSpans('abc', [
          { start: 0, end: 2, text: '' },
          { start: 1, end: 3, text: '' },
        ]),
      /overlapping/,
    );
  });
});
