import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { shQuote, shJoin, heredoc, printContent } from '../../../src/shell/quote.js';

describe('shell/quote', () => {
  const hostile = [
    "it's",
    'a b',
    '$(touch /tmp/x)',
    '`id`',
    'back\\slash',
    '',
    'semi;colon',
    'new\nline',
    '"dq"',
  ];

  it('round-trips hostile words through a real /bin/sh', () => {
    for (const word of hostile) {
      const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shQuote(word)}`]).toString();
      assert.equal(out, word);
    }
  });

  it('joins words so each stays one argument', () => {
    const out = execFileSync('/bin/sh', ['-c', `printf '<%s>' ${shJoin(hostile)}`]).toString();
    assert.equal(out, hostile.map((w) => `<${w}>`).join(''));
  });

  it('leaves plain words unquoted for readable commands', () => {
    assert.equal(shQuote('/etc/postgresql/15/main'), '/etc/postgresql/15/main');
  });

  it('builds a here-document whose delimiter is absent from the content', () => {
    const content = 'ORCH_EOF\n$HOME `id`\n';
    const { open, body } = heredoc(content);
    const out = execFileSync('/bin/sh', ['-s'], { input: `cat ${open}\n${body}` }).toString();
    assert.equal(out, content);
  });
});

describe('shell/quote printContent', () => {
  const cases = [
    'plain\n',
    'no newline',
    '',
    'quotes \' " and $(x) `y` \\ back\n',
    'ORCH_EOF\nORCH_EOF_1\n',
    'tab\tcr\r\n',
  ];
  it('reproduces content byte for byte through /bin/sh', () => {
    for (const c of cases) {
      const out = execFileSync('/bin/sh', ['-s'], { input: `${printContent(c, '>&1')}\n` });
      assert.equal(out.toString('utf8'), c);
    }
  });
});
