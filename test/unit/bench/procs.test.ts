import { strict as assert } from 'node:assert';
import { renderProcsSection } from '../../../bench/procs-report.js';
import { countTrace } from '../../../bench/procs.js';
import { renderBenchmarks } from '../../../bench/report.js';
import { sampleResults } from './fixture.js';

describe('bench: processes per host', () => {
  it('counts successful forks and clones (the resumed half too) and execs, not failures or the child side', () => {
    const trace = [
      '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101',
      '101 execve("/usr/bin/stat", ["stat"], 0x7ffd /* 3 vars */) = 0',
      '100 vfork( <unfinished ...>',
      '100 <... vfork resumed>)                = 102',
      '102 execve("/nope", ["nope"], 0x7ffd /* 3 vars */) = -1 ENOENT (No such file or directory)',
      '100 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = -1 EAGAIN (Resource temporarily unavailable)',
      '103 fork()                                = 0',
      '100 wait4(-1, NULL, 0, NULL)              = 101',
    ].join('\n');
    assert.deepEqual(countTrace(trace), { procs: 2, execs: 1 });
  });

  it('renders one row per workload, command and host with a column per label, and goes into BENCHMARKS.md', () => {
    const row = (procs: number) => ({
      workload: 'bench (20 states)',
      command: "apply '*'",
      host: 'h1',
      procs,
      execs: procs - 5,
      wallMs: 900,
    });
    const section = renderProcsSection({
      runs: 3,
      labels: {
        before: { date: '2026-12-01', rows: [row(430)] },
        after: { date: '2026-12-02', rows: [row(80)] },
      },
    });
    assert.match(section, /^## Processes per host/);
    assert.match(
      section,
      /\| bench \(20 states\) \| `orch apply '\*'` \| h1 \| 430 \/ 425 \/ 900 \| 80 \/ 75 \/ 900 \|/,
    );
    const md = renderBenchmarks(sampleResults(), {
      resultsFile: 'r.json',
      svgFile: 'w.svg',
      procsSection: section,
    });
    assert.ok(md.indexOf('## Processes per host') < md.indexOf('## Machine and versions'));
    assert.ok(md.includes('430 / 425 / 900'));
  });
});
