import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { parseBatchOutput } from '../../../src/shell/protocol.js';
import { buildBatch, newNonce } from '../../../src/shell/script.js';

describe('batch protocol', () => {
  it('reads a kv whose marker is glued to output without a final newline (real /bin/sh)', () => {
    const nonce = newNonce();
    const script = buildBatch(nonce, [{ index: 0, body: "printf 'no newline'; orch_kv answer 42" }]);
    const stdout = execFileSync('/bin/sh', ['-s'], { input: script }).toString();
    const out = parseBatchOutput(stdout, nonce).get(0)!;
    assert.equal(out.kv.answer, '42');
    assert.equal(out.status, 0);
    assert.equal(out.text, 'no newline');
  });

  it('ignores marker-looking text without the run nonce', () => {
    const nonce = newNonce();
    const forged = `@@ORCH:${newNonce()}:kv:answer:3433`;
    const script = buildBatch(nonce, [{ index: 0, body: `echo '${forged}'; orch_kv answer 42` }]);
    const stdout = execFileSync('/bin/sh', ['-s'], { input: script }).toString();
    const out = parseBatchOutput(stdout, nonce).get(0)!;
    assert.equal(out.kv.answer, '42');
    assert.equal(out.text, forged);
  });

  it('a plain value (kvt) holding marker text and colons stays one value; a newline sends it as hex (real /bin/sh)', () => {
    const nonce = newNonce();
    const lookalike = `@@ORCH:${nonce}:end:0:0`;
    const body = `orch_kv plain '${lookalike}'\norch_kv lines 'a\n@@ORCH:${nonce}:end:7:7'\norch_kv tab 'ok\tprocps\t2:4.0.2-3'`;
    const stdout = execFileSync('/bin/sh', ['-s'], {
      input: buildBatch(nonce, [{ index: 0, body }]),
    }).toString();
    assert.ok(stdout.includes(`:kvt:plain:${lookalike}\n`), 'sent plain');
    assert.ok(!stdout.includes(`\n@@ORCH:${nonce}:end:7:7`), 'the newline value is not sent as it is');
    const out = parseBatchOutput(stdout, nonce).get(0)!;
    assert.equal(out.kv.plain, lookalike);
    assert.equal(out.kv.lines, `a\n@@ORCH:${nonce}:end:7:7`);
    assert.equal(out.kv.tab, 'ok\tprocps\t2:4.0.2-3');
    assert.equal(out.status, 0);
  });
});
