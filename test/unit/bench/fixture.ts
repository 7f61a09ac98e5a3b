// A small BenchResults for the renderer tests: two sizes, two RTTs, both tools, every scenario.
import type { BenchResults, RunRecord, Scenario, ScenarioResult } from '../../../bench/types.js';

function result(
  tool: 'orch' | 'ansible',
  scenario: Scenario,
  rttMs: number,
  n: number,
  wallS: number,
): ScenarioResult {
  const run: RunRecord = {
    wallS,
    cpuS: wallS / 2,
    maxRssMb: 80,
    peakTreeRssMb: 120,
    connections: Array<number>(n).fill(1),
    execs: Array<number>(n).fill(tool === 'orch' ? (scenario === 'first' ? 3 : 2) : 53),
    ok: true,
  };
  return {
    tool,
    rttMs,
    n,
    scenario,
    runs: [run],
    wallS,
    cpuS: run.cpuS,
    maxRssMb: 80,
    peakTreeRssMb: 120,
    connectionsPerHost: [1],
    execsPerHost: [run.execs![0]!],
    execsSource: 'test',
    ok: true,
  };
}

/** Results where orch takes 1.5 s + 0.05 s per host and Ansible 20 s + 4 s per host (×1.2 at 20 ms). */
export function sampleResults(): BenchResults {
  const results: ScenarioResult[] = [];
  for (const rtt of [0, 20]) {
    for (const n of [2, 10]) {
      for (const s of ['first', 'nochange', 'check'] as const) {
        results.push(result('orch', s, rtt, n, 1.5 + 0.05 * n));
        results.push(result('ansible', s, rtt, n, (20 + 4 * n) * (rtt ? 1.2 : 1)));
      }
    }
  }
  return {
    date: '2026-11-22T10:00:00.000Z',
    durationS: 600,
    machine: { nproc: 2, memTotalMb: 24000, kernel: '6.1.0', cpu: 'Test CPU' },
    versions: {
      node: 'v20.0.0',
      orch: '0.1.0',
      ansibleCore: 'ansible-core 2.14.18',
      openssh: 'OpenSSH_9.2p1',
      python: 'Python 3.11.2',
    },
    settings: {
      sizes: [2, 10],
      rtts: [0, 20],
      runPlan: '1',
      quick: true,
      ansibleCfg: '[defaults]\nforks = 10\n',
    },
    rtt: [
      { setMs: 0, execMs: 3, measuredRttMs: 0 },
      { setMs: 20, execMs: 43, measuredRttMs: 20 },
    ],
    results,
    commands: {
      orch: { first: 'orch apply', nochange: 'orch apply', check: 'orch apply --test' },
      ansible: { first: 'ansible-playbook', nochange: 'ansible-playbook', check: 'ansible-playbook --check' },
    },
    notes: ['a note'],
  };
}
