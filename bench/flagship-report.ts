// The "Flagship job: replication formula vs Ansible" section of BENCHMARKS.md, from bench/results/flagship.json
// (bench/flagship.ts writes it). Pure: data in, Markdown out.
import { median, round, speedup, spread } from './stats.js';

export type FlagshipScenario = 'nochange' | 'check';
export type FlagshipTool = 'orch' | 'ansible';

/** One timed run of one tool. */
export interface FlagshipRun {
  wallS: number;
  cpuS: number;
  maxRssMb: number;
  changed?: number;
  ok: boolean;
  /** 1-minute load average just before the run (the machine is shared). */
  load1: number;
  /** orch only: ms per phase (connecting, facts, compiling, waiting, checking) per host, from its JSON report. */
  phases?: Record<string, Record<string, number>>;
}

/** Processes one host's sshd and everything under it made during one run (median over the traced runs). */
export interface FlagshipProcs {
  host: string;
  role: 'primary' | 'replica';
  procs: number;
  execs: number;
}

export interface FlagshipPoint {
  tool: FlagshipTool;
  scenario: FlagshipScenario;
  runs: FlagshipRun[];
  /** Medians over the runs. */
  wallS: number;
  cpuS: number;
  ok: boolean;
  procs: FlagshipProcs[];
}

export interface FlagshipSize {
  replicas: number;
  hosts: string[];
  /** orch's first converge (the formula builds the replicas), one run. */
  orchFirstS: number;
  /** Ansible's first run on the formula's cluster: what it changed says whether both tools want the same state. */
  ansibleFirst: { wallS: number; changed: number; ok: boolean; recap: string };
  /** orch --test after every Ansible run: states it would change (0: Ansible left the formula's state alone). */
  orchAfterChanged: number;
  points: FlagshipPoint[];
}

export interface FlagshipResults {
  date: string;
  durationS: number;
  runs: number;
  machine: { nproc: number; cpu: string; memTotalMb: number; kernel: string };
  versions: Record<string, string>;
  sizes: FlagshipSize[];
}

const GOAL = 15;
const fmt = (v: number | undefined, d = 2): string =>
  v === undefined || Number.isNaN(v) ? '–' : String(round(v, d));

/** Medians of a point's runs. */
export function summarize(
  tool: FlagshipTool,
  scenario: FlagshipScenario,
  runs: FlagshipRun[],
  procs: FlagshipProcs[],
): FlagshipPoint {
  return {
    tool,
    scenario,
    runs,
    wallS: median(runs.map((r) => r.wallS)),
    cpuS: median(runs.map((r) => r.cpuS)),
    ok: runs.length > 0 && runs.every((r) => r.ok),
    procs,
  };
}

/** "primary / replica" processes per host; several replicas show their range. */
function procsCell(p: FlagshipPoint | undefined): string {
  if (!p || p.procs.length === 0) return '–';
  const of = (role: string): string =>
    spread(p.procs.filter((x) => x.role === role).map((x) => round(x.procs, 1)));
  return `${of('primary')} / ${of('replica')}`;
}

function find(s: FlagshipSize, tool: FlagshipTool, scenario: FlagshipScenario): FlagshipPoint | undefined {
  return s.points.find((p) => p.tool === tool && p.scenario === scenario);
}

/** The table: one row per cluster size and scenario. */
export function flagshipTable(r: FlagshipResults): string {
  const head = [
    '| cluster | scenario | orch wall s | Ansible wall s | speed-up | orch CPU s | Ansible CPU s | orch processes per host (primary / replica) | Ansible processes per host (primary / replica) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows: string[] = [];
  for (const s of r.sizes) {
    for (const scenario of ['nochange', 'check'] as const) {
      const o = find(s, 'orch', scenario);
      const a = find(s, 'ansible', scenario);
      const flag = (x?: FlagshipPoint): string => (x && !x.ok ? ' ⚠' : '');
      const x = o && a ? speedup(a.wallS, o.wallS) : NaN;
      rows.push(
        `| primary + ${s.replicas} replica${s.replicas === 1 ? '' : 's'} | ${scenario === 'nochange' ? 'no-change' : 'check (`--test` / `--check`)'} | ${fmt(o?.wallS)}${flag(o)} | ${fmt(a?.wallS)}${flag(a)} | ${Number.isNaN(x) ? '–' : `${fmt(x, 1)}×`} | ${fmt(o?.cpuS)} | ${fmt(a?.cpuS)} | ${procsCell(o)} | ${procsCell(a)} |`,
      );
    }
  }
  return [...head, ...rows].join('\n');
}

/** Where orch's time went on no-change runs: the median of each phase on the primary and on the replicas. */
function phaseLines(r: FlagshipResults): string[] {
  const lines: string[] = [];
  for (const s of r.sizes) {
    const p = find(s, 'orch', 'nochange');
    if (!p || !p.runs.some((x) => x.phases)) continue;
    const of = (role: 'primary' | 'replica'): string => {
      const per = new Map<string, number[]>();
      for (const run of p.runs)
        for (const [host, phases] of Object.entries(run.phases ?? {})) {
          if ((host === s.hosts[0]) !== (role === 'primary')) continue;
          for (const [phase, ms] of Object.entries(phases)) per.set(phase, [...(per.get(phase) ?? []), ms]);
        }
      return [...per].map(([phase, ms]) => `${phase} ${fmt(median(ms) / 1000)}`).join(', ');
    };
    lines.push(
      `- primary + ${s.replicas}, wall ${fmt(p.wallS)} s: primary ${of('primary')} s; replica${s.replicas === 1 ? '' : 's'} ${of('replica')} s`,
    );
  }
  return lines;
}

/** Every run's wall time with the load before it, per tool and point. */
function runLines(r: FlagshipResults): string[] {
  const lines: string[] = [];
  for (const s of r.sizes) {
    for (const p of s.points) {
      const runs = p.runs.map((x) => `${fmt(x.wallS)} s (load ${fmt(x.load1, 1)})`).join(', ');
      lines.push(`- ${s.replicas} replica(s), ${p.tool} ${p.scenario}: ${runs}`);
    }
  }
  return lines;
}

/** The whole section (without the section markers, which bench/sections.ts adds). */
export function renderFlagshipSection(r: FlagshipResults): string {
  const goal = r.sizes.map((s) => {
    const o = find(s, 'orch', 'nochange');
    const a = find(s, 'ansible', 'nochange');
    return { replicas: s.replicas, x: o && a ? speedup(a.wallS, o.wallS) : NaN };
  });
  const met = goal.length > 0 && goal.every((g) => g.x >= GOAL);
  const same = r.sizes.map(
    (s) =>
      `- primary + ${s.replicas}: orch's first converge ${fmt(s.orchFirstS)} s (builds the replica${s.replicas === 1 ? '' : 's'}); Ansible's first run on that cluster ${fmt(s.ansibleFirst.wallS)} s, ${s.ansibleFirst.changed} task(s) changed${s.ansibleFirst.ok ? '' : ', FAILED'}; after all Ansible runs \`orch apply --test\` would change ${s.orchAfterChanged} state(s).`,
  );
  const v = r.versions;
  return `## Flagship job: replication formula vs Ansible

The replication formula (states/postgres/, pillar/postgres.yaml, templates/postgres/) beside an Ansible playbook
doing the same job with community.postgresql (bench/ansible-flagship/playbook.yml), on light lab hosts: one primary
with ${r.sizes.map((s) => s.replicas).join(' and with ')} streaming replicas. Measured ${r.date} by
\`npm run bench:flagship\` (${fmt(r.durationS / 60, 1)} min); wall and CPU are medians of ${r.runs} runs, processes
per host medians of ${r.runs} separate traced runs. Raw data: [bench/results/flagship.json](bench/results/flagship.json).

${flagshipTable(r)}

Goal from the issue, ≥ ${GOAL}× on no-change: **${met ? 'met' : 'missed'}** (${goal.map((g) => `${g.replicas} replica${g.replicas === 1 ? '' : 's'}: ${fmt(g.x, 1)}×`).join(', ')}).

Same end state first (untimed in the table):

${same.join('\n')}

What each tool does on every run:

- **orch** (\`orch -o json -j <hosts> apply '*' --stats --no-progress\`, \`--test\` for check): facts, then on every node
  the package, orch's conf.d include file rendered from the pillar's settings, pg_hba.conf (whole file from the
  template), .pgpass (0600, owned by postgres), the restart gate and the running service; on the primary the SCRAM
  replication role, pg_rewind's grants and one slot per replica; on a replica \`pg_make_replica --check\` (a standby
  of this primary, streaming through its slot, the slot present on the primary). One SSH connection per host.
- **Ansible** (\`ansible-playbook playbook.yml\`, \`--check\` for check; ansible.cfg as the main bench's, forks = at
  least 5, pipelining, ControlPersist closed before each run): \`apt\` (the package), \`postgresql_set\` for each of
  the 8 settings, one \`postgresql_pg_hba\` task with the formula's entries (\`rules\`, \`overwrite: true\`), a
  \`template\` for .pgpass (0600, postgres), \`service\` started; on the primary \`postgresql_user\` (SCRAM: the module
  checks the plaintext against the stored verifier), \`postgresql_privs\` for pg_rewind's four functions,
  \`postgresql_slot\` per replica; on each replica \`postgresql_query\` of \`pg_is_in_recovery()\` and
  \`pg_stat_wal_receiver\` (status streaming, its slot). No facts gathered (the play needs none; orch reads facts),
  database tasks through \`become_user: postgres\` (sudo).

Every run of either tool starts without an open connection, straight to the hosts' sshd (no delaying proxy: 0 ms
RTT). orch and Ansible runs alternate, so both see the same load; this machine is shared, each run's 1-minute load
average is beside it below. Processes per host: strace on each host's own sshd (\`bench/procs.ts\`'s \`tracedRun\`:
every successful fork/vfork/clone under it, sshd's own per connection included), in runs apart from the timed ones.
CPU is the tool's process tree on the controller (GNU time; for Ansible its ssh masters added), not the hosts'.

${runLines(r).join('\n')}
${
  phaseLines(r).length
    ? `
orch's phases per host on the no-change runs (medians; the rest of the wall time is the CLI's own start, the
barrier before checking and the exit):

${phaseLines(r).join('\n')}
`
    : ''
}
Machine: ${r.machine.nproc} CPUs (${r.machine.cpu}), ${fmt(r.machine.memTotalMb / 1024, 1)} GiB, kernel ${r.machine.kernel};
controller and every lab host share these CPUs. Versions: ${Object.entries(v)
    .map(([k, x]) => `${k} ${x}`)
    .join(', ')}.

Reproduce (root, under the lab lock, after \`npm run build\`; installs Debian's \`ansible\` and \`python3-psycopg2\`
with apt-get when missing, before any lab host starts, since light hosts see the controller's /usr):

\`\`\`sh
flock /tmp/orch-lab.lock npm run bench:flagship                        # primary + 1 and + 3 replicas, 3 runs
flock /tmp/orch-lab.lock npm run bench:flagship -- --replicas 1,3 --runs 3
\`\`\`
`;
}
