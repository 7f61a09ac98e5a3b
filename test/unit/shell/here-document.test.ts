// hereDocument: content reaches the command byte for byte, and no line of it can end the document early.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { hereDocument } from '../../../src/shell/quote.js';

describe('hereDocument', () => {
  const cases = [
    'SELECT 1;\n',
    'no trailing newline',
    'ORCH_EOF\necho pwned\nORCH_EOF_1\n$(id) `id` ${x} \\ \'"\n',
    'ü\tCR\r\n\n\nORCH_EOF_2',
  ];
  for (const shell of ['dash', 'bash', 'busybox sh']) {
    it(`passes content as it is under ${shell}`, () => {
      for (const c of cases) {
        const script = `${hereDocument('cat', c)}echo after\n`;
        const [cmd, ...args] = shell.split(' ');
        const r = spawnSync(cmd!, [...args, '-c', script], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${c.endsWith('\n') ? c : `${c}\n`}after\n`);
      }
    });
  }

  it('refuses NUL', () => {
    assert.throws(() => hereDocument('cat', 'a\0b'), /NUL/);
  });
});
