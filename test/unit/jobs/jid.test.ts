import { strict as assert } from 'node:assert';
import {
  JidGenerator,
  formatMicros,
  isJid,
  jidToDate,
  jidToMicros,
  newJid,
  nextJid,
} from '../../../src/jobs/jid.js';

describe('jobs/jid', () => {
  it('has the Salt shape YYYYMMDDhhmmssffffff in UTC', () => {
    const before = Date.now();
    const jid = newJid();
    const after = Date.now();
    assert.match(jid, /^\d{20}$/);
    const at = jidToDate(jid)!.getTime();
    assert.ok(at >= before - 1 && at <= after + 1, `${jid} is not now`);
    assert.equal(formatMicros(1_763_000_000_123_456n), '20251113021320123456');
    assert.equal(jidToMicros('20251113021320123456'), 1_763_000_000_123_456n);
  });

  it('isJid accepts real instants only', () => {
    assert.ok(isJid('20261121093015123456'));
    assert.ok(!isJid('2026112109301512345'));
    assert.ok(!isJid('20261121093015123456 '));
    assert.ok(!isJid('2026112109301512345x'));
    assert.ok(!isJid('20261321093015123456'), 'month 13');
    assert.ok(!isJid('20260230093015123456'), 'February 30');
    assert.ok(!isJid('20261121253015123456'), 'hour 25');
    assert.ok(!isJid(2026112109301512));
    assert.ok(!isJid(undefined));
  });

  it('nextJid moves one microsecond, carrying across seconds and days', () => {
    assert.equal(nextJid('20261121093015123456'), '20261121093015123457');
    assert.equal(nextJid('20261121093015999999'), '20261121093016000000');
    assert.equal(nextJid('20261231235959999999'), '20270101000000000000');
  });

  it('stays unique and strictly increasing in a burst of 100000', () => {
    let prev = '';
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const j = newJid();
      assert.ok(j > prev, `${j} after ${prev}`);
      seen.add(j);
      prev = j;
    }
    assert.equal(seen.size, 100_000);
  });

  it('never goes backwards when the clock does, and skips ids seen elsewhere', () => {
    const ticks = [5_000_000n, 4_000_000n, 4_000_000n, 6_000_000n];
    const gen = new JidGenerator(() => ticks.shift() ?? 0n);
    const a = gen.next();
    const b = gen.next();
    const c = gen.next();
    assert.equal(jidToMicros(a), 5_000_000n);
    assert.equal(jidToMicros(b), 5_000_001n);
    assert.equal(jidToMicros(c), 5_000_002n);
    gen.observe(formatMicros(9_000_000n));
    assert.equal(jidToMicros(gen.next()), 9_000_001n);
  });
});
