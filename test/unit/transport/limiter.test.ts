import assert from 'node:assert/strict';
import { Limiter } from '../../../src/transport/limiter.js';

describe('Limiter', () => {
  it('never runs more than the limit at once and runs everything, in order of arrival', async () => {
    const lim = new Limiter(3);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        lim.run(async () => {
          started.push(i);
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5 + (i % 3)));
          active--;
          return i * 2;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(results, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('releases the slot when a task fails', async () => {
    const lim = new Limiter(1);
    await assert.rejects(
      lim.run(() => Promise.reject(new Error('x'))),
      /x/,
    );
    assert.equal(await lim.run(() => Promise.resolve('next')), 'next');
  });

  it('rejects a limit below one', () => {
    assert.throws(() => new Limiter(0), RangeError);
  });

  it('outside(): a task waiting on the others gives its slot up, so a barrier over more tasks than slots ends', async () => {
    const lim = new Limiter(1);
    let arrived = 0;
    let open!: () => void;
    const all = new Promise<void>((r) => (open = r));
    let running = 0;
    let most = 0;
    const task = async (name: string): Promise<string> => {
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      running--;
      if (++arrived === 3) open();
      await lim.outside(all);
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      running--;
      return name;
    };
    const out = await Promise.race([
      Promise.all(['a', 'b', 'c'].map((n) => lim.run(() => task(n)))),
      new Promise((_, reject) => setTimeout(() => reject(new Error('deadlock')), 2000)),
    ]);
    assert.deepEqual(out, ['a', 'b', 'c']);
    assert.equal(most, 1, 'never more than the limit at work at once');
  });
});
