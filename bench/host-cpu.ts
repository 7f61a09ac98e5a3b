// Where the CPU of a no-change drift goes, per host: the hosts' side (each light host's sshd with every process it
// forked for orch's connection: the per-connection sshd, the shells, the checks) against the controller's. Both are
// read as reaped children's CPU from /proc (cutime + cstime): of each host's sshd master, which waits for its
// connection processes, and of this process, which waits for orch. Figures only, no timing assertions.
// Usage (under the lab lock): node --import tsx bench/host-cpu.ts [--hosts 30] [--runs 3] [--run]
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../src/config/project.js';
import { BenchLab, writeLabInventory } from './hosts.js';
import { runOrch } from './procs.js';
import { median } from './stats.js';

const REPO = path.resolve(import.meta.dirname, '..');
const TICK_MS = 10; // USER_HZ is 100 on Linux

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Reaped children's CPU (user + system) of a pid, in ms. */
function childCpuMs(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, cutime 16, cstime 17.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) * TICK_MS;
}

async function main(): Promise<void> {
  const n = arg('--hosts', 30);
  const runs = arg('--runs', 3);
  // `--run` measures `orch run '*' -- true` instead: the connection alone, without facts or checks.
  const verb = process.argv.includes('--run') ? ['run', '*', '--', 'true'] : ['drift', '*'];
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-host-cpu-'));
  cpSync(path.join(REPO, 'bench', 'project-template'), root, { recursive: true });
  const project = loadProject({ root });
  const lab = new BenchLab(project);
  try {
    const hosts = await lab.ensure(n);
    writeLabInventory(root, project, hosts);
    const j = ['-j', String(n)];
    const first = await runOrch(root, [...j, 'apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (first.code !== 0) throw new Error(`first converge failed:\n${first.out.slice(-3000)}`);
    const rows: { wallMs: number; hostMs: number; controllerMs: number; load1: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const load1 = os.loadavg()[0]!;
      const hostsBefore = hosts.reduce((s, h) => s + childCpuMs(h.sshdPid), 0);
      const selfBefore = childCpuMs('self');
      const r = await runOrch(root, [...j, ...verb]);
      if (r.code !== 0) throw new Error(`drift exit ${r.code}:\n${r.out.slice(-1500)}`);
      const hostMs = hosts.reduce((s, h) => s + childCpuMs(h.sshdPid), 0) - hostsBefore;
      rows.push({ wallMs: r.ms, hostMs, controllerMs: childCpuMs('self') - selfBefore, load1 });
    }
    const per = (k: 'hostMs' | 'controllerMs'): string => (median(rows.map((r) => r[k])) / n).toFixed(1);
    const text = [
      `host-cpu ${new Date().toISOString().slice(0, 16)}Z: ${n} light hosts, \`orch -j ${n} ${verb.join(' ')}\` (bench workload), ${runs} runs`,
      ...rows.map(
        (r) =>
          `  wall ${r.wallMs} ms, hosts' CPU ${r.hostMs} ms, controller CPU ${r.controllerMs} ms (load ${r.load1.toFixed(2)})`,
      ),
      `  median per host: hosts' side ${per('hostMs')} ms CPU, controller ${per('controllerMs')} ms CPU`,
      '',
    ].join('\n');
    process.stdout.write(text);
  } finally {
    await lab.down().catch((err: unknown) => process.stderr.write(`lab down: ${String(err)}\n`));
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
