// The "Processes per host" section of BENCHMARKS.md, from bench/results/procs.json (bench/procs.ts writes it).
export interface ProcsRow {
  workload: string;
  command: string;
  host: string;
  /** Processes the host's sshd and everything under it created during the run (median over the runs). */
  procs: number;
  /** Programs executed (execve) during the run. */
  execs: number;
  wallMs: number;
}

export interface ProcsResults {
  runs: number;
  /** Measurements per build label (e.g. before, after), each with its date. */
  labels: Record<string, { date: string; rows: ProcsRow[] }>;
}

const key = (r: ProcsRow): string => `${r.workload}\u0000${r.command}\u0000${r.host}`;

/** One table row per workload, command and host; per label its processes, execs and wall time. */
export function renderProcsSection(r: ProcsResults): string {
  const labels = Object.keys(r.labels);
  const rows = new Map<string, ProcsRow>();
  for (const l of labels)
    for (const row of r.labels[l]!.rows) if (!rows.has(key(row))) rows.set(key(row), row);
  const head = labels.map((l) => `${l}: processes / execs / wall ms`);
  const lines = [...rows.values()].map((row) => {
    const cells = labels.map((l) => {
      const m = r.labels[l]!.rows.find((x) => key(x) === key(row));
      return m ? `${m.procs} / ${m.execs} / ${m.wallMs}` : '–';
    });
    return `| ${row.workload} | \`orch ${row.command}\` | ${row.host} | ${cells.join(' | ')} |`;
  });
  const dates = labels.map((l) => `${l} ${r.labels[l]!.date}`).join(', ');
  // Facts and checks alone: a no-change apply minus `run -- true` on the same host.
  const net = [...rows.values()]
    .filter((row) => row.command.startsWith('apply'))
    .map((row) => {
      const per = labels.map((l) => {
        const rs = r.labels[l]!.rows;
        const apply = rs.find((x) => key(x) === key(row));
        const base = rs.find(
          (x) => x.workload === row.workload && x.host === row.host && x.command.startsWith('run'),
        );
        return apply && base ? `${l} ${apply.procs - base.procs}` : `${l} –`;
      });
      const goal = row.workload.startsWith('bench') ? 40 : 60;
      return `- ${row.workload}, ${row.host}: ${per.join(', ')} (goal ≤ ${goal})`;
    });
  return `## Processes per host

What one run makes a host do, counted by \`node --import tsx bench/procs.ts\` (lab hosts, under the lab lock) or
\`bench/procs-local.ts\` (a throwaway sshd on 127.0.0.1 in a private mount namespace, /etc and /var on overlays; the
bench workload only) (${dates}; median of ${r.runs} runs; \`ORCH_PROCS_CLI\` points either at another build): strace follows the host's own sshd (\`strace -f -e trace=fork,vfork,clone,clone3,execve\`) for the
length of the run, and every successful fork/vfork/clone under it is one process, sshd's own per connection
included. Light lab hosts share the machine's PID namespace, so tracing one sshd counts only that host's work, not the
neighbours'. Each run is one \`orch\` command from a fresh process (one SSH connection per host); wall time is the
whole command's. "facts and checks" is a no-change \`apply\` minus \`run -- true\` (the connection and session alone).
The counts are exact and repeat run to run (±1: the watchdog's \`sleep 1\`); wall times on this shared machine are
not (other work ran beside these: load 4–5 on 2 cores for before and after, 9–12 for later columns), so read them only
beside each other in one column.

| workload | command | host | ${head.join(' | ')} |
|---|---|---|${labels.map(() => '---:').join('|')}|
${lines.join('\n')}

Facts and checks per host (no-change apply minus \`run -- true\`):

${net.join('\n')}
`;
}
