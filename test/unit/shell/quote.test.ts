import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { shQuote, shJoin, printContent, viaBinSh } from '../../../src/shell/quote.js';
import { missingPrereqs, requireIntegration } from '../../helpers/prereqs.js';

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

  it('refuses a word with a NUL byte instead of letting the shell drop it', () => {
    assert.throws(
      () => shQuote('/e\0tc'),
      (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /NUL/.test(e.message),
    );
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
    'ORCH_EOF)\n-dash % %s \\n \0 end',
  ];
  it('reproduces content byte for byte through /bin/sh', () => {
    for (const c of cases) {
      const out = execFileSync('/bin/sh', ['-s'], { input: `${printContent(c, '>&1')}\n` });
      assert.equal(out.toString('utf8'), c);
    }
  });

  it('emits pure ASCII with short lines', () => {
    const script = printContent(`Où ${'é'.repeat(5000)}\n`);
    assert.match(script, /^[\x20-\x7e\n]*$/);
    assert.ok(Math.max(...script.split('\n').map((l) => l.length)) <= 4200);
  });
});

describe('shell/quote: viaBinSh', () => {
  const nasty = "echo 'a b' \"c\" $HOME !x `true` \\ %s\nprintf '<%s>' é; exit 3";
  it('holds nothing but letters, digits and octal escapes in the word a login shell sees', () => {
    const [, , decoder, , word] = viaBinSh(nasty);
    assert.match(word!, /^(?:[A-Za-z0-9]|\\[0-7]{3})+$/);
    assert.doesNotMatch(decoder!, /[!'\n\\]/);
  });
  for (const login of ['/bin/sh', '/bin/bash', '/bin/csh'])
    it(`reaches /bin/sh unchanged through ${login}`, function () {
      if (!existsSync(login)) {
        if (login !== '/bin/csh') this.skip();
        requireIntegration(
          this,
          'the csh quoting test',
          missingPrereqs().filter((m) => m.includes('csh')),
        );
      }
      const r = spawnSync(login, ['-c', shJoin(viaBinSh(nasty))], { encoding: 'utf8', env: { HOME: '/h' } });
      // Unquoted `\ ` is an escaped space, so echo's last word is ' %s'.
      assert.equal(r.stdout, 'a b c /h !x  %s\n<é>');
      assert.equal(r.status, 3);
    });
});
