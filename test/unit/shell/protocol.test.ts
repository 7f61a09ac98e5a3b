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
});
