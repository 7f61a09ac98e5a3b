// The bench's large point for orch alone: lab01..labNN light hosts (default 250), the bench workload converged once,
// then `orch drift '*'` (facts and every check, one connection per host) timed K times with -j N, straight to the
// hosts' sshd (no delaying proxy: 0 ms RTT). Records each run's wall time with the load average before it, since
// this machine is shared; writes bench/results/scale.json and scale.md, the section `npm run bench` puts into
// BENCHMARKS.md. Takes down only the hosts it
// brought up. Usage (under the lab lock): node --import tsx bench/scale.ts [--hosts 250] [--runs 5]
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../src/config/project.js';
import { BenchLab, writeLabInventory } from './hosts.js';
import { runOrch } from './procs.js';

const REPO = path.resolve(import.meta.dirname, '..');

export interface ScaleRun {
  wallMs: number;
  /** 1-minute load average just before the run. */
  load1: number;
  exit: number;
}

export interface ScaleResult {
  date: string;
  hosts: number;
  parallel: number;
  upMs: number;
  firstConvergeMs: number;
  drift: ScaleRun[];
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** The "Scale" section of BENCHMARKS.md from every result kept: best and median drift wall time, load beside each. */
export function renderScale(all: readonly ScaleResult[]): string {
  const rows = all.map((r) => {
    const walls = r.drift.map((d) => d.wallMs).sort((a, b) => a - b);
    const s = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(1)} s`;
    const runs = r.drift.map((d) => `${s(d.wallMs)} (load ${d.load1.toFixed(1)})`).join(', ');
    return `| ${r.hosts} | ${r.date} | ${s(r.upMs)} | ${s(r.firstConvergeMs)} | ${s(walls[0])} | ${s(walls[Math.floor(walls.length / 2)])} | ${runs} |`;
  });
  return `## Scale: orch alone on many light hosts

\`node --import tsx bench/scale.ts --hosts N\` (under the lab lock): \`orch lab up --count N\` light hosts, the bench
workload converged once, then \`orch -j N drift '*'\` (facts and every check, one connection per host) run several
times straight to the hosts' sshd (0 ms RTT, no proxy). Controller and every host's sshd share this machine's 2 cores,
which other work shared too: each run's 1-minute load average just before it is beside its time.

| hosts | date | lab up | first converge | drift best | drift median | drift runs |
|---:|---|---:|---:|---:|---:|---|
${rows.join('\n')}
`;
}

async function main(): Promise<void> {
  const n = arg('--hosts', 250);
  const runs = arg('--runs', 5);
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-scale-'));
  cpSync(path.join(REPO, 'bench', 'project-template'), root, { recursive: true });
  const project = loadProject({ root });
  const lab = new BenchLab(project);
  try {
    const t0 = Date.now();
    const hosts = await lab.ensure(n);
    const upMs = Date.now() - t0;
    writeLabInventory(root, project, hosts);
    const j = ['-j', String(n)];
    const first = await runOrch(root, [...j, 'apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (first.code !== 0) throw new Error(`first converge failed:\n${first.out.slice(-3000)}`);
    const drift: ScaleRun[] = [];
    for (let i = 0; i < runs; i++) {
      const load1 = os.loadavg()[0]!;
      const r = await runOrch(root, [...j, 'drift', '*']);
      drift.push({ wallMs: r.ms, load1, exit: r.code });
      if (r.code !== 0) process.stderr.write(`drift exit ${r.code}:\n${r.out.slice(-1500)}\n`);
    }
    const result: ScaleResult = {
      date: new Date().toISOString().slice(0, 10),
      hosts: n,
      parallel: n,
      upMs,
      firstConvergeMs: first.ms,
      drift,
    };
    const file = path.join(REPO, 'bench', 'results', 'scale.json');
    let all: ScaleResult[] = [];
    try {
      all = JSON.parse(readFileSync(file, 'utf8')) as ScaleResult[];
    } catch {
      /* first result */
    }
    const kept = [...all.filter((x) => x.hosts !== n), result].sort((a, b) => a.hosts - b.hosts);
    writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`);
    const md = renderScale(kept);
    writeFileSync(path.join(REPO, 'bench', 'results', 'scale.md'), md);
    process.stdout.write(md);
  } finally {
    await lab.down().catch((err: unknown) => process.stderr.write(`lab down: ${String(err)}\n`));
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
