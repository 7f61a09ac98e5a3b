import { strict as assert } from 'node:assert';
import { median, round, speedup, spread } from '../../../bench/stats.js';

describe('bench stats', () => {
  it('median of odd and even counts, unsorted input, empty', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.ok(Number.isNaN(median([])));
  });

  it('median does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    assert.deepEqual(xs, [3, 1, 2]);
  });

  it('round, spread and speedup', () => {
    assert.equal(round(1.23456, 2), 1.23);
    assert.equal(round(2.5, 0), 3);
    assert.equal(spread([1, 1, 1]), '1');
    assert.equal(spread([2, 1, 3]), '1–3');
    assert.equal(spread([]), '–');
    assert.equal(speedup(10, 2), 5);
    assert.ok(Number.isNaN(speedup(10, 0)));
  });
});
