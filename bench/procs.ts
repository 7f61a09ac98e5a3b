// Processes a host spawns during one orch run: strace follows the host's own sshd (-f, process syscalls only) while
// the run lasts, and every successful fork/vfork/clone under it is one process, sshd's own per-connection ones
// included. Light lab hosts share the machine's PID namespace, so the pid counter would count the neighbours' work
// too; tracing one sshd counts only what orch made that host do. Brings up its own hosts and takes them down.
// Writes bench/results/procs.json (rows kept per --label, so a before and an after build sit side by side) and
// bench/results/procs.md, the section `npm run bench` puts into BENCHMARKS.md.
// Usage (under the lab lock): node --import tsx bench/procs.ts [--runs 3] [--label after]   (dist/ must be built;
// ORCH_PROCS_CLI=<path to main.js> measures another build)
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../src/config/project.js';
import { labDown, labUp, projectLabFiles, type LabHost } from '../src/lab/index.js';
import {
  DEMO_IDENTITY,
  formulaProjectDir,
  writeFormulaHosts,
  type FormulaHost,
} from '../test/helpers/formula-lab.js';
import { renderProcsSection, type ProcsResults, type ProcsRow } from './procs-report.js';
import { median } from './stats.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = process.env.ORCH_PROCS_CLI ?? path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** Processes created and programs executed under one traced sshd. */
export interface ProcCount {
  procs: number;
  execs: number;
}

/** Count successful process creations and execve calls in `strace -f` output. */
export function countTrace(text: string): ProcCount {
  let procs = 0;
  let execs = 0;
  for (const line of text.split('\n')) {
    if (/\b(clone3?|v?fork)\b.*= \d+\s*$/.test(line) && !/= 0\s*$/.test(line)) procs++;
    else if (/\bexecve\(.*= 0\s*$/.test(line)) execs++;
  }
  return { procs, execs };
}

/** sshd's pid per host name: the process strace follows. */
export const sshdPids = new Map<string, number>();

/** Remember these light hosts' sshd pids, the processes `traced` follows. */
export function remember(hosts: readonly LabHost[]): void {
  for (const h of hosts) {
    if (h.kind !== 'light') throw new Error(`${h.name} is not a light lab host`);
    sshdPids.set(h.name, h.sshdPid);
  }
}

export function runOrch(root: string, args: string[]): Promise<{ code: number; out: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, '--root', root, ...args], {
      env: { ...process.env, NO_COLOR: '1', ORCH_AGE_IDENTITY: DEMO_IDENTITY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => resolve({ code: code ?? 1, out, ms: Date.now() - t0 }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** runOrch that throws unless orch exited 0 or 2 (changes or drift reported). */
async function orchOk(root: string, args: string[]): Promise<{ ms: number }> {
  const r = await runOrch(root, args);
  if (r.code !== 0 && r.code !== 2)
    throw new Error(`orch ${args.join(' ')}: exit ${r.code}\n${r.out.slice(-2000)}`);
  return r;
}

/** Run `run` with strace on each named host's sshd; the counts per host and what `run` gave. */
export async function tracedRun<T>(
  hosts: string[],
  run: () => Promise<T>,
): Promise<{ counts: Map<string, ProcCount>; result: T }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-procs-'));
  const tracers = hosts.map((h) => {
    const file = path.join(dir, `${h}.trace`);
    const p = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=fork,vfork,clone,clone3,execve',
        '-e',
        'signal=none',
        '-o',
        file,
        '-p',
        String(sshdPids.get(h)),
      ],
      { stdio: 'ignore' },
    );
    return { h, file, p };
  });
  await sleep(500);
  const counts = new Map<string, ProcCount>();
  try {
    const result = await run();
    // Sessions close after the client does; let sshd reap them before detaching.
    await sleep(700);
    return { counts, result };
  } finally {
    // Detached even when the run failed, so no strace is left behind; `counts` is filled here, before the
    // caller gets it.
    for (const t of tracers) {
      if (t.p.exitCode === null && t.p.signalCode === null) {
        const done = new Promise((res) => t.p.on('close', res));
        t.p.kill('SIGINT');
        await done;
      }
      counts.set(t.h, countTrace(readFileSync(t.file, 'utf8')));
      // ORCH_PROCS_KEEP=<dir>: keep the last trace per host, to see which programs ran.
      if (process.env.ORCH_PROCS_KEEP) cpSync(t.file, path.join(process.env.ORCH_PROCS_KEEP, `${t.h}.trace`));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run orch with strace on each named host's sshd; the counts per host and the run's wall time. */
export async function traced(
  root: string,
  hosts: string[],
  args: string[],
): Promise<{ counts: Map<string, ProcCount>; ms: number }> {
  const { counts, result } = await tracedRun(hosts, () => orchOk(root, args));
  return { counts, ms: result.ms };
}

/** Rows of processes per host over `runs` traced runs of `run` (medians), labelled workload and command. */
export async function measureWith(
  rows: ProcsRow[],
  workload: string,
  command: string,
  hosts: string[],
  run: () => Promise<{ ms: number }>,
  runs: number,
): Promise<void> {
  const per = new Map<string, ProcCount[]>();
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { counts, result } = await tracedRun(hosts, run);
    walls.push(result.ms);
    for (const [h, c] of counts) per.set(h, [...(per.get(h) ?? []), c]);
  }
  for (const [h, cs] of per) {
    rows.push({
      workload,
      command,
      host: h,
      procs: median(cs.map((c) => c.procs)),
      execs: median(cs.map((c) => c.execs)),
      wallMs: median(walls),
    });
  }
}

/** measureWith for one orch command (`args` after `--root`). */
export async function measure(
  rows: ProcsRow[],
  workload: string,
  root: string,
  hosts: string[],
  command: string[],
  runs: number,
): Promise<void> {
  await measureWith(rows, workload, command.join(' '), hosts, () => orchOk(root, command), runs);
}

/** Keep these rows under `label` in bench/results/procs.json and re-render bench/results/procs.md. */
export function saveRows(rows: ProcsRow[], runs: number, label: string): void {
  const file = path.join(REPO, 'bench', 'results', 'procs.json');
  const all: ProcsResults = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as ProcsResults)
    : { runs, labels: {} };
  // Rows of the same workload, command and host are replaced; the label's others (another script's) are kept.
  const same = (a: ProcsRow, b: ProcsRow): boolean =>
    a.workload === b.workload && a.command === b.command && a.host === b.host;
  const kept = (all.labels[label]?.rows ?? []).filter((old) => !rows.some((n) => same(old, n)));
  all.labels[label] = { date: new Date().toISOString().slice(0, 10), rows: [...kept, ...rows] };
  all.runs = runs;
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  const md = renderProcsSection(all);
  writeFileSync(path.join(REPO, 'bench', 'results', 'procs.md'), md);
  process.stdout.write(md);
}

async function main(): Promise<void> {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
  const labelAt = process.argv.indexOf('--label');
  const label = labelAt > 0 ? process.argv[labelAt + 1]! : 'current';
  const rows: ProcsRow[] = [];
  const BENCH = 'procs-bench.example.com';
  const P = 'procs-primary.example.com';
  const R = 'procs-replica.example.com';
  const benchRoot = mkdtempSync(path.join(os.tmpdir(), 'orch-procs-bench-'));
  cpSync(path.join(REPO, 'bench', 'project-template'), benchRoot, { recursive: true });
  const formulaRoot = formulaProjectDir('orch-procs-formula-');
  const benchProject = loadProject({ root: benchRoot });
  const formulaProject = loadProject({ root: formulaRoot });
  try {
    const [bh] = await labUp([BENCH], { project: benchProject });
    remember([bh!]);
    mkdirSync(path.join(benchRoot, 'inventory'), { recursive: true });
    writeFileSync(
      path.join(benchRoot, 'inventory', 'hosts.yaml'),
      `defaults: { user: root, identity: ${JSON.stringify(projectLabFiles(benchProject).key)} }\nhosts:\n  ${BENCH}: { address: ${bh!.ip} }\n`,
    );
    const first = await runOrch(benchRoot, ['apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (first.code !== 0) throw new Error(`bench first converge failed:\n${first.out.slice(-2000)}`);
    await measure(rows, 'bench (20 states)', benchRoot, [BENCH], ['run', '*', '--', 'true'], runs);
    await measure(rows, 'bench (20 states)', benchRoot, [BENCH], ['facts', '*'], runs);
    await measure(rows, 'bench (20 states)', benchRoot, [BENCH], ['apply', '*', '--no-progress'], runs);

    const up = await labUp([P, R], { project: formulaProject });
    remember(up);
    const fh = (n: string): FormulaHost => ({ name: n, ip: up.find((h) => h.name === n)!.ip });
    writeFormulaHosts(formulaRoot, fh(P), [fh(R)]);
    const conv = await runOrch(formulaRoot, ['apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (conv.code !== 0) throw new Error(`formula first converge failed:\n${conv.out.slice(-2000)}`);
    await measure(rows, 'replication formula', formulaRoot, [P, R], ['run', '*', '--', 'true'], runs);
    await measure(rows, 'replication formula', formulaRoot, [P, R], ['apply', '*', '--no-progress'], runs);
  } finally {
    await labDown([BENCH], { project: benchProject }).catch(() => undefined);
    await labDown([P, R], { project: formulaProject }).catch(() => undefined);
    rmSync(benchRoot, { recursive: true, force: true });
    rmSync(formulaRoot, { recursive: true, force: true });
  }
  saveRows(rows, runs, label);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
