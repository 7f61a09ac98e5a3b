import { strict as assert } from 'node:assert';
import { checkTargets, growthLines, renderBenchmarks, scenarioTable } from '../../../bench/report.js';
import { sampleResults } from './fixture.js';

describe('bench report rendering', () => {
  it('one table row per RTT and size with both tools and the speed-up', () => {
    const table = scenarioTable(sampleResults(), 'nochange');
    const rows = table.split('\n').slice(2);
    assert.equal(rows.length, 4);
    // N=10 at 20 ms: orch 2.0 s, Ansible (20 + 40) * 1.2 = 72 s, 36×.
    const row = rows.find((r) => r.startsWith('| 20 ms | 10 |'))!;
    assert.match(row, /\| 2 \| 72 \| 36× \|/);
    assert.match(row, /\| 1 \/ 1 \| 2 \/ 53 \| 1 \/ 1 \|$/);
  });

  it('targets: met when the data says so, missed when a speed-up is too small', () => {
    const r = sampleResults();
    const t = checkTargets(r);
    assert.equal(t.length, 5);
    assert.ok(
      t.every((x) => x.met === true),
      JSON.stringify(t),
    );
    const slowOrch = r.results.find(
      (x) => x.tool === 'orch' && x.scenario === 'first' && x.rttMs === 20 && x.n === 10,
    )!;
    slowOrch.wallS = 30;
    const first = checkTargets(r).find((x) => x.target.includes('first converge'))!;
    assert.equal(first.met, false);
    assert.match(first.detail, /N=10: 2\.4×/);
  });

  it('targets: orch execs above 2 in no-change are a miss', () => {
    const r = sampleResults();
    r.results.find((x) => x.tool === 'orch' && x.scenario === 'nochange')!.execsPerHost = [2, 3];
    assert.equal(checkTargets(r)[0]!.met, false);
  });

  it('growth lines compare the smallest and largest size', () => {
    const lines = growthLines(sampleResults());
    assert.equal(lines.length, 6);
    assert.match(lines[0]!, /orch 1\.6 → 2 s/);
    assert.match(lines[0]!, /ansible 28 → 60 s \(×2\.1, \+4000 ms per extra host\)/);
  });

  it('the document links the data and the plot and names machine and versions', () => {
    const md = renderBenchmarks(sampleResults(), { resultsFile: 'r.json', svgFile: 'w.svg' });
    assert.match(md, /\[r\.json\]\(r\.json\)/);
    assert.match(md, /!\[wall time vs hosts\]\(w\.svg\)/);
    assert.match(md, /2 CPUs \(Test CPU\)/);
    assert.match(md, /ansible-core 2\.14\.18/);
    assert.match(md, /- a note/);
    assert.match(md, /\| 20 ms \| 43 ms \| 20 ms \|/);
  });
});
