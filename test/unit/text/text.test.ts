// The one colour switch and the one table of human output.
import { strict as assert } from 'node:assert';
import { colorEnabled, palette } from '../../../src/text/color.js';
import { table } from '../../../src/text/table.js';

describe('text: colour and tables', () => {
  it('colours a terminal; NO_COLOR turns it off, FORCE_COLOR on (and wins), FORCE_COLOR=0 off', () => {
    assert.equal(colorEnabled(true, {}), true);
    assert.equal(colorEnabled(false, {}), false);
    assert.equal(colorEnabled(undefined, {}), false);
    assert.equal(colorEnabled(true, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled(true, { NO_COLOR: '' }), true, 'an empty NO_COLOR is not set');
    assert.equal(colorEnabled(false, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled(false, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
    assert.equal(colorEnabled(true, { FORCE_COLOR: '0' }), false);
  });

  it('aligns columns by what is visible, colour codes left out', () => {
    const red = palette({ isTTY: true }, {}).red;
    const text = table([
      ['HOST', 'STATUS', 'NOTE'],
      ['db1', red('failed'), 'x'],
      ['db22', 'ok', ''],
    ]);
    assert.ok(text.includes('\u001b[31mfailed\u001b[0m'));
    const plain = text.split('\u001b[31m').join('').split('\u001b[0m').join('');
    assert.equal(plain, 'HOST  STATUS  NOTE\ndb1   failed  x\ndb22  ok\n');
  });
});
