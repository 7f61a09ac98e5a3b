// Rendering the results as BENCHMARKS.md: tables per scenario, the targets from the issue checked against the data,
// the machine, versions, commands and method. Pure: data in, Markdown out.
import { round, spread, speedup } from './stats.js';
import type { BenchResults, Scenario, ScenarioResult } from './types.js';

export const SCENARIOS: Array<{ id: Scenario; title: string }> = [
  { id: 'first', title: 'First converge (every state changes)' },
  { id: 'nochange', title: 'No-change re-apply' },
  { id: 'check', title: 'Check mode (`--test` / `--check`) on converged hosts' },
];

/** Find the result of one tool at one point, if measured. */
export function pick(
  r: BenchResults,
  tool: string,
  scenario: Scenario,
  rttMs: number,
  n: number,
): ScenarioResult | undefined {
  return r.results.find((x) => x.tool === tool && x.scenario === scenario && x.rttMs === rttMs && x.n === n);
}

const fmt = (v: number | undefined, d = 2): string =>
  v === undefined || Number.isNaN(v) ? '–' : String(round(v, d));
const list = (v: number[] | undefined): string => (v && v.length ? spread(v) : '–');

/** The Markdown table of one scenario: one row per RTT and size. */
export function scenarioTable(r: BenchResults, scenario: Scenario): string {
  const head = [
    '| RTT | N | orch wall s | Ansible wall s | speed-up | orch CPU s | Ansible CPU s | orch RSS MB (max / tree) | Ansible RSS MB (max / tree) | conns/host orch / Ansible | execs/host orch / Ansible | runs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows: string[] = [];
  for (const rtt of r.settings.rtts) {
    for (const n of r.settings.sizes) {
      const o = pick(r, 'orch', scenario, rtt, n);
      const a = pick(r, 'ansible', scenario, rtt, n);
      if (!o && !a) continue;
      const flag = (x?: ScenarioResult): string => (x && !x.ok ? ' ⚠' : '');
      rows.push(
        `| ${rtt} ms | ${n} | ${fmt(o?.wallS)}${flag(o)} | ${fmt(a?.wallS)}${flag(a)} | ${o && a ? `${fmt(speedup(a.wallS, o.wallS), 1)}×` : '–'} | ${fmt(o?.cpuS)} | ${fmt(a?.cpuS)} | ${fmt(o?.maxRssMb, 0)} / ${fmt(o?.peakTreeRssMb, 0)} | ${fmt(a?.maxRssMb, 0)} / ${fmt(a?.peakTreeRssMb, 0)} | ${list(o?.connectionsPerHost)} / ${list(a?.connectionsPerHost)} | ${list(o?.execsPerHost)} / ${list(a?.execsPerHost)} | ${o?.runs.length ?? 0} / ${a?.runs.length ?? 0} |`,
      );
    }
  }
  return [...head, ...rows].join('\n');
}

export interface TargetCheck {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** The issue's targets, each checked against the measured data (undefined: not measured). */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const scenario of ['nochange', 'check'] as const) {
    const rs = r.results.filter((x) => x.tool === 'orch' && x.scenario === scenario);
    const conns = [...new Set(rs.flatMap((x) => x.connectionsPerHost))].sort();
    const execs = [...new Set(rs.flatMap((x) => x.execsPerHost))].sort();
    out.push({
      target: `orch ${scenario === 'check' ? 'check' : 'no-change'}: 1 connection and ≤ 2 exec round trips per host`,
      met: rs.length
        ? conns.every((c) => c === 1) && execs.length > 0 && execs.every((e) => e <= 2)
        : undefined,
      detail: `connections per host seen: ${conns.join(', ') || '–'}; execs per host seen: ${execs.join(', ') || '–'}`,
    });
  }
  const big = r.settings.sizes.filter((n) => n >= 10);
  for (const [scenario, factor] of [
    ['nochange', 5],
    ['check', 5],
    ['first', 3],
  ] as const) {
    const ratios = big.flatMap((n) => {
      const o = pick(r, 'orch', scenario, 20, n);
      const a = pick(r, 'ansible', scenario, 20, n);
      return o && a ? [{ n, x: speedup(a.wallS, o.wallS) }] : [];
    });
    out.push({
      target: `20 ms, N ≥ 10, ${scenario === 'first' ? 'first converge' : scenario === 'check' ? 'check' : 'no-change'}: orch ≥ ${factor}× faster than Ansible`,
      met: ratios.length ? ratios.every((q) => q.x >= factor) : undefined,
      detail: ratios.map((q) => `N=${q.n}: ${round(q.x, 1)}×`).join(', ') || 'not measured',
    });
  }
  return out;
}

/** Cost growth: wall time at the largest size over the smallest, per tool/scenario/RTT. */
export function growthLines(r: BenchResults): string[] {
  const sizes = [...r.settings.sizes].sort((a, b) => a - b);
  if (sizes.length < 2) return [];
  const lo = sizes[0]!;
  const hi = sizes[sizes.length - 1]!;
  const lines: string[] = [];
  for (const rtt of r.settings.rtts) {
    for (const { id } of SCENARIOS) {
      const parts = ['orch', 'ansible'].map((tool) => {
        const a = pick(r, tool, id, rtt, lo);
        const b = pick(r, tool, id, rtt, hi);
        if (!a || !b) return `${tool}: –`;
        const perHostMs = ((b.wallS - a.wallS) / (hi - lo)) * 1000;
        return `${tool} ${fmt(a.wallS)} → ${fmt(b.wallS)} s (×${fmt(b.wallS / a.wallS, 1)}, +${fmt(perHostMs, 0)} ms per extra host)`;
      });
      lines.push(`- ${rtt} ms, ${id}, N ${lo} → ${hi}: ${parts.join('; ')}`);
    }
  }
  return lines;
}

/** The whole BENCHMARKS.md. */
export function renderBenchmarks(
  r: BenchResults,
  opts: { resultsFile: string; svgFile: string; procsSection?: string; extraSections?: string[] },
): string {
  const targets = checkTargets(r);
  const mark = (m: boolean | undefined): string =>
    m === undefined ? 'not measured' : m ? '**met**' : '**missed**';
  const rttLines = r.rtt.map(
    (p) =>
      `| ${p.setMs} ms | ${fmt(p.execMs)} ms | ${p.setMs === 0 ? '–' : `${fmt(p.measuredRttMs, 1)} ms`} |`,
  );
  return `# Benchmarks: orch vs Ansible on lab hosts

Measured ${r.date} by \`npm run bench\` (${r.settings.quick ? 'quick run: ' : ''}sizes ${r.settings.sizes.join(', ')}; RTTs ${r.settings.rtts.join(', ')} ms; runs per point: ${r.settings.runPlan}; the whole bench took ${fmt(r.durationS / 60, 1)} min).
Raw data: [${opts.resultsFile}](${opts.resultsFile}). Plot: [${opts.svgFile}](${opts.svgFile}).

![wall time vs hosts](${opts.svgFile})

Wall, CPU: median over the runs; RSS: peak over the runs. A ⚠ marks a point where some run failed (see the JSON).
"conns/host" and "execs/host" list the values seen on every host in every run (\`1\` = always 1, \`1–2\` = a range).

${SCENARIOS.map((s) => `## ${s.title}\n\n${scenarioTable(r, s.id)}`).join('\n\n')}

## Targets from the issue

| target | result | data |
|---|---|---|
${targets.map((t) => `| ${t.target} | ${mark(t.met)} | ${t.detail} |`).join('\n')}

Cost growth with N:

${growthLines(r).join('\n') || '- only one size measured'}

${r.notes.length ? `Notes from this run:\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
${opts.procsSection ? `${opts.procsSection.trim()}\n\n` : ''}${(opts.extraSections ?? []).map((x) => `${x.trim()}\n\n`).join('')}## Machine and versions

- ${r.machine.nproc} CPUs (${r.machine.cpu}), ${fmt(r.machine.memTotalMb / 1024, 1)} GiB memory, kernel ${r.machine.kernel}
- node ${r.versions.node}, orch ${r.versions.orch}, ${r.versions.ansibleCore}, ${r.versions.openssh}, ${r.versions.python}
- Controller and every lab host share these CPUs: the hosts' sshd and shells compete with the tools.

Measured latency through the proxies (a trivial exec over an open connection is two round trips):

| RTT set | trivial exec (median of 5) | RTT measured |
|---:|---:|---:|
${rttLines.join('\n')}

## Commands

\`\`\`sh
npm run bench                       # sizes 2,10,50; RTT 0 and 20 ms; then the flagship job (bench:flagship)
npm run bench -- --no-flagship      # the same without the flagship job
npm run bench -- --quick            # sizes 2,10; one run each (smoke run; no flagship job)
npm run bench -- --sizes 2,10 --rtts 0,20,50 --runs 3
\`\`\`

Per run (in a temp copy of bench/project-template/):

\`\`\`sh
${(['first', 'nochange', 'check'] as const).map((s) => `${r.commands.orch[s]}`).join('\n')}
${(['first', 'nochange', 'check'] as const).map((s) => `${r.commands.ansible[s]}`).join('\n')}
\`\`\`

Ansible's ansible.cfg (paths shortened):

\`\`\`ini
${r.settings.ansibleCfg.trim()}
\`\`\`

## Method

- **Hosts**: lab hosts lab01..labNN (network + mount namespaces with their own sshd, see src/lab/), brought up by the bench
  and taken down at the end (only the ones it brought up). Both tools log in as root with the same lab key.
- **Workload** (bench/project-template/): the same 20 idempotent states for both tools, written by hand: 5 directories,
  6 templated files (nunjucks for orch, jinja2 for Ansible, same output), an inline-content file, an init script,
  two lines in a file, two commands with \`creates\`, a package already installed (\`procps\`, apt), a file absent, and
  a service running (a tiny sysvinit script) restarted when its config changes.
- **Scenarios**: *first converge*: the workload is removed inside every host (nsenter, untimed, no SSH), then the tool
  runs; *no-change*: the tool runs again on converged hosts; *check*: \`orch apply --test\` / \`ansible-playbook --check\`
  on converged hosts. Before each Ansible run its ControlPersist masters are closed, so every run of both tools starts
  without an open connection.
- **Latency**: a Node TCP proxy per host (bench/proxy.ts) on 127.0.0.1:<port> forwards to the host's sshd and holds each
  chunk for RTT/2 in each direction (order kept); both tools connect only through it (orch inventory \`address\`/\`port\`,
  Ansible \`ansible_host\`/\`ansible_port\`). Host keys are written for the proxied \`[127.0.0.1]:port\` names from the lab's
  keys: orch's known_hosts and a separate known_hosts for Ansible (\`StrictHostKeyChecking=yes\`).
- **Wall time**: from spawn to exit of the tool's process, measured by the bench.
- **CPU**: user+sys of the tool's process tree as GNU \`time\` reports it (\`/usr/bin/time -f '%e %U %S %M'\`, i.e. getrusage
  of waited-for children). For Ansible the CPU of its ControlPersist ssh masters, which detach from the tree, is read
  from /proc before they are closed and added.
- **Memory**: "max" is the largest single process's max RSS (GNU time's %M); "tree" is the peak of the RSS summed over
  the tool's process group, sampled every 200 ms from /proc (detached ssh masters not included).
- **Connections per host**: "Accepted publickey" lines each run added to the host's sshd log (sshd -e), for both tools.
- **Exec channels per host**: the lab's sshd logs no channels at its LogLevel, and the proxy cannot see inside SSH.
  orch: its own \`--stats\` (exec round trips per host), every run. Ansible: the "SSH: EXEC" lines of an extra, untimed
  \`-vvv\` run of each scenario (each line is one ssh invocation, i.e. one session channel on the shared connection),
  attributed to hosts by their proxy port.
- **Ansible settings**: ssh connection plugin, pipelining on, forks = N (at least 5), ControlPersist 60 s with
  ControlMaster auto, Ansible's default ssh_args otherwise (\`-C\`), \`gathering = smart\` with \`gather_subset = min\` (the
  play gathers facts implicitly once per host, the minimal subset), linear strategy, host key checking on,
  /usr/bin/python3 on the hosts.
- **Limits**: one 2-core machine runs the controller, the proxies and every host; at N=50 the hosts' own work
  competes with the tools for CPU, which hurts the tool that runs more processes on the hosts. Loopback plus a fixed
  delay is not a real network (no loss, no bandwidth limit). Ansible needs about 1 s per task per host here, so its
  larger sizes get one run each (no median) and N=50 only the 20 ms RTT; even so the default bench takes about 35
  minutes on this machine (each Ansible run at N=50 takes about 5 minutes), over the 20 minutes aimed for; \`--quick\`
  takes about 10. orch's controller CPU stays near 2 s at N=50: most of its growth with N is the hosts' own sshd and
  shell work on the same two CPUs.
`;
}
