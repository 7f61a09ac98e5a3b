// Shapes of the bench's results (bench/results/<date>.json) shared by the runner and the renderers.
import type { Scenario, ToolName } from './tools.js';

export type { Scenario, ToolName };

/** One timed invocation of a tool. */
export interface RunRecord {
  wallS: number;
  cpuS: number;
  maxRssMb: number;
  peakTreeRssMb: number;
  /** SSH connections per host (sshd log), in host order. */
  connections: number[];
  /** Exec channels per host, when this run counted them (orch: always, from --stats). */
  execs?: number[];
  ok: boolean;
  changed?: number;
}

/** All runs of one tool at one RTT, size and scenario, with their summary. */
export interface ScenarioResult {
  tool: ToolName;
  rttMs: number;
  n: number;
  scenario: Scenario;
  runs: RunRecord[];
  /** Medians over runs (wall, CPU); peaks over runs (memory). */
  wallS: number;
  cpuS: number;
  maxRssMb: number;
  peakTreeRssMb: number;
  /** Per-host values over every run, e.g. [1] or [1, 2]. */
  connectionsPerHost: number[];
  execsPerHost: number[];
  execsSource: string;
  ok: boolean;
}

export interface RttProbe {
  setMs: number;
  execMs: number;
  measuredRttMs: number;
}

export interface BenchResults {
  date: string;
  durationS: number;
  machine: { nproc: number; memTotalMb: number; kernel: string; cpu: string };
  versions: { node: string; orch: string; ansibleCore: string; openssh: string; python: string };
  settings: {
    sizes: number[];
    rtts: number[];
    /** How many runs each point got, in words. */
    runPlan: string;
    quick: boolean;
    ansibleCfg: string;
  };
  rtt: RttProbe[];
  results: ScenarioResult[];
  commands: { orch: Record<Scenario, string>; ansible: Record<Scenario, string> };
  notes: string[];
}
