// How soon `orch apply --async` prints its job id: the time from spawning the CLI to the id on its stdout, over a
// temp project (two hosts, SQLite job store, no worker started), beside a bare `node -e 0` for the floor of this
// machine. Also the CLI's own CPU time. Writes the "--async start" section of BENCHMARKS.md.
// Usage: npm run bench:async [-- --runs 15 --no-write]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSection } from './sections.js';
import { median } from './stats.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

interface Sample {
  firstOutputMs: number;
  exitMs: number;
  cpuMs: number;
}

/** Spawn argv; the time to its first stdout byte, to its exit, and its CPU (from /usr/bin/time). */
function sample(argv: string[], cwd: string): Promise<Sample> {
  const timeFile = path.join(cwd, 'time.txt');
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...argv], {
    cwd,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let first = NaN;
  child.stdout.once('data', () => (first = performance.now() - started));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', async (code) => {
      const exitMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}`));
      const { readFileSync } = await import('node:fs');
      const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ firstOutputMs: Number.isNaN(first) ? exitMs : first, exitMs, cpuMs: (u! + s!) * 1000 });
    });
  });
}

function project(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-async-start-'));
  mkdirSync(path.join(root, 'inventory'));
  writeFileSync(
    path.join(root, 'inventory', 'hosts.yaml'),
    'defaults:\n  user: root\nhosts:\n  a.example.com:\n    address: 127.0.0.1\n  b.example.com:\n    address: 127.0.0.1\n',
  );
  writeFileSync(path.join(root, 'orch.yaml'), 'jobs:\n  spawn_worker: false\n');
  return root;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 0) || 15;
  const write = !argv.includes('--no-write');
  const root = project();
  try {
    const orch: Sample[] = [];
    const bare: Sample[] = [];
    // One untimed run creates the job store; the timed ones find it.
    await sample([process.execPath, CLI, '--root', root, 'apply', '*', '--async'], root);
    for (let i = 0; i < runs; i++) {
      bare.push(await sample([process.execPath, '-e', 'process.stdout.write("x")'], root));
      orch.push(await sample([process.execPath, CLI, '--root', root, 'apply', '*', '--async'], root));
    }
    const m = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
    const load = os.loadavg()[0]!.toFixed(2);
    const text = `## \`orch apply --async\` start

Time from spawning \`orch apply '*' --async\` (2 hosts, SQLite job store, \`jobs.spawn_worker: false\`) to the job id
on its stdout, median of ${runs} runs (\`npm run bench:async\`, ${new Date().toISOString().slice(0, 10)}, load average
${load} at the end; goal ≤ 150 ms on a quiet machine):

| what | job id printed | exit | CPU (user+sys) |
|---|---|---|---|
| \`orch apply '*' --async\` | ${m(orch, 'firstOutputMs').toFixed(0)} ms | ${m(orch, 'exitMs').toFixed(0)} ms | ${m(orch, 'cpuMs').toFixed(0)} ms |
| \`node -e\` (the floor of this machine) | ${m(bare, 'firstOutputMs').toFixed(0)} ms | ${m(bare, 'exitMs').toFixed(0)} ms | ${m(bare, 'cpuMs').toFixed(0)} ms |
`;
    process.stdout.write(text);
    if (write) writeSection('async-start', text);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
