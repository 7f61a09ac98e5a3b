import { strict as assert } from 'node:assert';
import { logTicks, renderWallTimeSvg } from '../../../bench/svg.js';
import { sampleResults } from './fixture.js';

describe('bench wall-time SVG', () => {
  it('log ticks 1-2-5 within the range', () => {
    assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logTicks(0.1, 1), [0.1, 0.2, 0.5, 1]);
  });

  it('three panels, one line per tool and RTT in each, points for every size', () => {
    const svg = renderWallTimeSvg(sampleResults());
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 3 * 2 * 2);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3 * 2 * 2 * 2);
    assert.match(svg, /Ansible, 20 ms RTT/);
    assert.match(svg, /No-change re-apply/);
    // Dashed lines mark the second RTT.
    assert.ok(svg.includes('stroke-dasharray="6 4"'));
  });

  it('a higher wall time is drawn higher (smaller y)', () => {
    const svg = renderWallTimeSvg(sampleResults());
    const first = /<polyline fill="none" stroke="#1f77b4"[^>]*points="([^"]+)"/.exec(svg)![1]!;
    const ansible = /<polyline fill="none" stroke="#d62728"[^>]*points="([^"]+)"/.exec(svg)![1]!;
    const y = (pts: string): number => Number(pts.split(' ')[0]!.split(',')[1]);
    assert.ok(y(ansible) < y(first));
  });
});
