import { strict as assert } from 'node:assert';
import {
  renderFlagshipSection,
  summarize,
  type FlagshipResults,
  type FlagshipRun,
} from '../../../bench/flagship-report.js';

const run = (wallS: number, ok = true): FlagshipRun => ({
  wallS,
  cpuS: wallS / 4,
  maxRssMb: 90,
  ok,
  load1: 2,
});
const procs = (primary: number, replicas: number[]) => [
  { host: 'p', role: 'primary' as const, procs: primary, execs: primary - 10 },
  ...replicas.map((n, i) => ({ host: `r${i}`, role: 'replica' as const, procs: n, execs: n - 10 })),
];

function results(orchNoChange: number[]): FlagshipResults {
  return {
    date: '2026-12-02T15:00:00.000Z',
    durationS: 600,
    runs: 3,
    machine: { nproc: 2, cpu: 'test cpu', memTotalMb: 4096, kernel: '6.1' },
    versions: { 'ansible-core': '2.14.18', 'community.postgresql': '2.4.2' },
    sizes: [
      {
        replicas: 3,
        hosts: ['p', 'r0', 'r1', 'r2'],
        orchFirstS: 30,
        ansibleFirst: { wallS: 12, changed: 0, ok: true, recap: 'PLAY RECAP' },
        orchAfterChanged: 0,
        points: [
          summarize(
            'orch',
            'nochange',
            orchNoChange.map((w) => run(w)),
            procs(60, [150, 152, 151]),
          ),
          summarize('ansible', 'nochange', [run(10), run(9), run(11)], procs(140, [130, 130, 131])),
          summarize('orch', 'check', [run(1), run(1), run(1, false)], procs(60, [150])),
          summarize('ansible', 'check', [run(10), run(10), run(10)], []),
        ],
      },
    ],
  };
}

describe('bench: flagship section', () => {
  it('takes medians of the runs and marks a point with a failed run', () => {
    const p = summarize('orch', 'nochange', [run(3), run(1), run(2)], []);
    assert.equal(p.wallS, 2);
    assert.equal(p.cpuS, 0.5);
    assert.equal(p.ok, true);
    assert.equal(summarize('orch', 'check', [run(1), run(1, false)], []).ok, false);
    assert.equal(summarize('orch', 'check', [], []).ok, false);
  });

  it('renders one row per size and scenario with the speed-up and processes per role (replicas as a range)', () => {
    const md = renderFlagshipSection(results([0.5, 0.4, 0.6]));
    assert.match(md, /^## Flagship job: replication formula vs Ansible/);
    assert.match(
      md,
      /\| primary \+ 3 replicas \| no-change \| 0\.5 \| 10 \| 20× \| 0\.13 \| 2\.5 \| 60 \/ 150–152 \| 140 \/ 130–131 \|/,
    );
    // A failed run is flagged; a point without traced runs shows a dash.
    assert.match(md, /\| check \(`--test` \/ `--check`\) \| 1 ⚠ \| 10 \| 10× \|.*\| 60 \/ 150 \| – \|/);
    assert.match(md, /≥ 15× on no-change: \*\*met\*\* \(3 replicas: 20×\)/);
    assert.match(
      md,
      /0 task\(s\) changed; after all Ansible runs `orch apply --test` would change 0 state\(s\)/,
    );
  });

  it('says missed when orch is under 15× faster on no-change', () => {
    const md = renderFlagshipSection(results([1, 1, 1]));
    assert.match(md, /≥ 15× on no-change: \*\*missed\*\* \(3 replicas: 10×\)/);
  });
});
