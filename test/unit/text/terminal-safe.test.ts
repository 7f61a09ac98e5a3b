import { strict as assert } from 'node:assert';
import { terminalSafe } from '../../../src/text/terminal-safe.js';

describe('terminalSafe', () => {
  it('leaves plain text, tabs, newlines, CRLF and SGR colours alone', () => {
    for (const s of [
      'plain',
      'a\tb\nc',
      'line\r\nnext',
      '\u001b[31mred\u001b[0m',
      '\u001b[1;32mok\u001b[m',
      'Où ça',
    ])
      assert.equal(terminalSafe(s), s);
  });

  it('shows escape sequences other than SGR in caret form', () => {
    assert.equal(terminalSafe('\u001b]0;owned\u0007'), '^[]0;owned^G');
    assert.equal(terminalSafe('x\u001b[2Ay'), 'x^[[2Ay');
    assert.equal(terminalSafe('\u001b[?1049h'), '^[[?1049h');
    assert.equal(terminalSafe('\u001bP+q\u001b\\'), '^[P+q^[\\');
  });

  it('shows a bare carriage return, backspace, NUL and DEL instead of acting on them', () => {
    assert.equal(terminalSafe('real\rfake'), 'real^Mfake');
    assert.equal(terminalSafe('ab\bc'), 'ab^Hc');
    assert.equal(terminalSafe('a\u0000b\u007f'), 'a^@b^?');
  });

  it('shows C1 controls and bidi overrides as code points', () => {
    assert.equal(terminalSafe('\u009b31m'), '<U+009B>31m');
    assert.equal(terminalSafe('a\u202eb\u2066c'), 'a<U+202E>b<U+2066>c');
  });

  it('leaves no control a terminal acts on, for every code unit below 0x100', () => {
    for (let c = 0; c < 0x100; c++) {
      const out = terminalSafe(`x${String.fromCharCode(c)}[1A]0;t\u0007y`);
      const controls = [...out].filter((ch) => {
        const k = ch.codePointAt(0)!;
        return (k < 0x20 && ch !== '\t' && ch !== '\n') || (k >= 0x7f && k <= 0x9f);
      });
      assert.deepEqual(controls, [], `code ${c}: ${JSON.stringify(out)}`);
    }
  });
});
