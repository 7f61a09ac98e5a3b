import { strict as assert } from 'node:assert';
import { parseBenchArgs, runsFor } from '../../../bench/args.js';

describe('bench arguments', () => {
  it('defaults: sizes 2,10,50, RTTs 0,20, the default run plan', () => {
    const a = parseBenchArgs([]);
    assert.deepEqual(a.sizes, [2, 10, 50]);
    assert.deepEqual(a.rtts, [0, 20]);
    assert.equal(a.runs, undefined);
    assert.equal(runsFor(a, 'orch', 50, 0), 3);
    assert.equal(runsFor(a, 'ansible', 2, 0), 3);
    assert.equal(runsFor(a, 'ansible', 10, 0), 1);
    assert.equal(runsFor(a, 'ansible', 50, 0), 0);
    assert.equal(runsFor(a, 'ansible', 50, 20), 1);
    assert.equal(a.flagship, true);
  });

  it('the flagship job runs after the main bench unless --no-flagship or --quick', () => {
    assert.equal(parseBenchArgs(['--no-flagship']).flagship, false);
    assert.equal(parseBenchArgs(['--quick']).flagship, false);
    assert.equal(parseBenchArgs(['--sizes', '2']).flagship, true);
  });

  it('--quick: sizes 2,10 and one run everywhere', () => {
    const a = parseBenchArgs(['--quick']);
    assert.deepEqual(a.sizes, [2, 10]);
    assert.equal(runsFor(a, 'orch', 10, 20), 1);
    assert.equal(runsFor(a, 'ansible', 10, 0), 1);
  });

  it('--sizes/--rtts are sorted and deduplicated; --runs applies to every point', () => {
    const a = parseBenchArgs(['--sizes', '10,2,10', '--rtts', '50,0', '--runs', '2', '--no-build']);
    assert.deepEqual(a.sizes, [2, 10]);
    assert.deepEqual(a.rtts, [0, 50]);
    assert.equal(a.build, false);
    assert.equal(runsFor(a, 'ansible', 10, 0), 2);
  });

  it('rejects bad values and unknown flags', () => {
    assert.throws(() => parseBenchArgs(['--sizes', '0']), /--sizes/);
    assert.throws(() => parseBenchArgs(['--sizes', '2,x']), /--sizes/);
    assert.throws(() => parseBenchArgs(['--rtts']), /needs a value/);
    assert.throws(() => parseBenchArgs(['--fast']), /unknown argument/);
  });
});
