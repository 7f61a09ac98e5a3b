// The bench: orch vs Ansible on the same lab hosts, the same workload, through delaying proxies. Brings up lab01..
// labNN in a temp project of its own, runs each tool per RTT, size and scenario, writes bench/results/<date>.json,
// bench/results/wall-time.svg and BENCHMARKS.md, then takes down only the hosts it brought up.
// Then, unless --quick or --no-flagship, the flagship job (bench/flagship.ts), whose section it splices in.
// Usage: npm run bench [-- --quick | --sizes 2,10 --rtts 0,20 --runs 3 | --no-flagship]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../src/config/project.js';
import { execInHost, projectLabFiles, type LabHost } from '../src/lab/index.js';
import { parseBenchArgs, runsFor, type BenchArgs } from './args.js';
import {
  BenchLab,
  keysByName,
  logOffsets,
  logSlices,
  proxiedKnownHosts,
  readKnownHosts,
  resetHosts,
} from './hosts.js';
import { countAcceptedConnections } from './logcount.js';
import { startDelayProxy, type DelayProxy } from './proxy.js';
import { ensureAnsiblePostgres, runFlagship } from './flagship.js';
import { renderBenchmarks } from './report.js';
import { storedSections } from './sections.js';
import { timeTrivialExec } from './rtt.js';
import { median } from './stats.js';
import { renderWallTimeSvg } from './svg.js';
import {
  ansibleCfg,
  ansibleDriver,
  ensureAnsible,
  orchDriver,
  type ProxiedHost,
  type Scenario,
  type ToolDriver,
} from './tools.js';
import type { BenchResults, RttProbe, RunRecord, ScenarioResult } from './types.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const PROCS_MD = path.join(REPO, 'bench', 'results', 'procs.md');
// bench/scale.ts's section (orch alone on many hosts), kept beside the processes per host.
const SCALE_MD = path.join(REPO, 'bench', 'results', 'scale.md');
const SCENARIO_ORDER: Scenario[] = ['first', 'nochange', 'check'];

const log = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

function build(): void {
  log('compiling (tsc)');
  const r = spawnSync('npx', ['tsc', '-p', REPO], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  // Other parts of the tree may be mid-edit: tsc still emits; only a missing CLI stops the bench.
  if (r.status !== 0)
    log(`tsc reported errors (continuing with what it emitted):\n${r.stdout.slice(0, 2000)}`);
  if (!existsSync(CLI)) throw new Error(`${CLI} missing after the build`);
}

function versions(ansibleVersion: string): BenchResults['versions'] {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  let rev = '';
  try {
    rev = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a git checkout */
  }
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  const py = spawnSync('/usr/bin/python3', ['-V'], { encoding: 'utf8' });
  return {
    node: process.version,
    orch: `${pkg.version}${rev ? ` (${rev})` : ''}`,
    ansibleCore: ansibleVersion.replace(/^ansible-playbook \[core (.*)\]$/, 'ansible-core $1'),
    openssh: (ssh.stderr || ssh.stdout).trim().split(',')[0]!,
    python: `${(py.stdout || py.stderr).trim()} (controller and hosts)`,
  };
}

function summarize(
  tool: ToolDriver['name'],
  rttMs: number,
  n: number,
  scenario: Scenario,
  runs: RunRecord[],
): ScenarioResult {
  return {
    tool,
    rttMs,
    n,
    scenario,
    runs,
    wallS: median(runs.map((r) => r.wallS)),
    cpuS: median(runs.map((r) => r.cpuS)),
    maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
    peakTreeRssMb: Math.max(...runs.map((r) => r.peakTreeRssMb)),
    connectionsPerHost: [...new Set(runs.flatMap((r) => r.connections))].sort((a, b) => a - b),
    execsPerHost: [...new Set(runs.flatMap((r) => r.execs ?? []))].sort((a, b) => a - b),
    execsSource: tool === 'orch' ? 'orch --stats, every run' : 'not counted',
    ok: runs.every((r) => r.ok),
  };
}

/** One tool invocation with its sshd-log connection count per host. */
async function measureOnce(
  driver: ToolDriver,
  hosts: readonly LabHost[],
  scenario: Scenario,
  countExecs = false,
): Promise<RunRecord> {
  if (scenario === 'first') await resetHosts(hosts);
  const offsets = logOffsets(hosts);
  const out = await driver.run(scenario, { countExecs });
  // sshd writes its log line at authentication, long before the run ends; a short pause covers buffered writes.
  await new Promise((r) => setTimeout(r, 100));
  const slices = logSlices(hosts, offsets);
  const rec: RunRecord = {
    wallS: out.wallS,
    cpuS: out.cpuS,
    maxRssMb: out.maxRssMb,
    peakTreeRssMb: out.peakTreeRssMb,
    connections: hosts.map((h) => countAcceptedConnections(slices.get(h.name) ?? '')),
    ok: out.ok && !out.timedOut,
  };
  if (out.execsPerHost) rec.execs = hosts.map((h) => out.execsPerHost!.get(h.name) ?? NaN);
  if (out.changed !== undefined) rec.changed = out.changed;
  if (!rec.ok) {
    log(`${driver.name} ${scenario} FAILED (exit ${out.code}${out.timedOut ? ', timed out' : ''})`);
    log(`stdout tail: ${out.stdout.slice(-1500)}`);
    log(`stderr tail: ${out.stderr.slice(-1500)}`);
  }
  return rec;
}

async function main(args: BenchArgs): Promise<void> {
  const started = Date.now();
  if (args.build) build();
  const ansibleVersion = ensureAnsible(log);
  // The flagship job's modules, installed now: light hosts see /usr as it was when they started.
  if (args.flagship) ensureAnsiblePostgres();
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-'));
  cpSync(path.join(REPO, 'bench', 'project-template'), root, { recursive: true });
  const project = loadProject({ root });
  const lab = new BenchLab(project);
  const proxies = new Map<string, DelayProxy>();
  const results: ScenarioResult[] = [];
  const probes: RttProbe[] = [];
  const notes: string[] = [];
  const ansibleDir = path.join(root, 'ansible');
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log('interrupted: finishing the current run, then cleaning up');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const key = projectLabFiles(project).key;
    const orch = orchDriver({ cli: CLI, root, key, knownHostsFile: project.knownHostsFile });
    const ansible = ansibleDriver({ dir: ansibleDir, key });
    const ansibleExecs = new Map<Scenario, number[]>();
    for (const n of args.sizes) {
      if (interrupted) break;
      log(`bringing up ${n} lab hosts`);
      const hosts = await lab.ensure(n);
      if (n === args.sizes[0]) {
        const py = await execInHost(hosts[0]!.name, ['python3', '-V'], { timeoutMs: 30_000 });
        if (py.code !== 0) throw new Error(`python3 missing on lab hosts: ${py.stderr}`);
      }
      for (const h of hosts) {
        if (!proxies.has(h.name)) proxies.set(h.name, await startDelayProxy({ targetHost: h.ip }));
      }
      const exported = readKnownHosts(project);
      const keys = keysByName(exported);
      const proxied: ProxiedHost[] = hosts.map((h) => ({
        name: h.name,
        address: '127.0.0.1',
        port: proxies.get(h.name)!.port,
      }));
      const kh = proxiedKnownHosts(proxied, keys);
      orch.prepare(proxied, exported + kh);
      ansible.prepare(proxied, kh);
      for (const rtt of args.rtts) {
        if (interrupted) break;
        for (const p of proxies.values()) p.setRttMs(rtt);
        if (!probes.some((p) => p.setMs === rtt)) {
          const execMs = await timeTrivialExec({
            host: proxied[0]!.address,
            port: proxied[0]!.port,
            key,
            hostKeys: keys.get(hosts[0]!.name) ?? [],
          });
          const base = probes.find((p) => p.setMs === 0)?.execMs ?? 0;
          probes.push({ setMs: rtt, execMs, measuredRttMs: rtt === 0 ? 0 : (execMs - base) / 2 });
          log(`RTT ${rtt} ms: trivial exec ${execMs.toFixed(2)} ms`);
        }
        for (const driver of [orch, ansible]) {
          const runs = runsFor(args, driver.name, n, rtt);
          if (runs === 0) {
            notes.push(`${driver.name} not measured at N=${n}, ${rtt} ms (time budget; see --runs).`);
            continue;
          }
          if (n === args.sizes[0] && rtt === args.rtts[0]) {
            log(`${driver.name}: untimed warm-up converge on ${n} hosts`);
            const warm = await measureOnce(driver, hosts, 'first');
            if (!warm.ok) throw new Error(`${driver.name} warm-up run failed; see the output above`);
          }
          for (const scenario of SCENARIO_ORDER) {
            const recs: RunRecord[] = [];
            for (let i = 0; i < runs && !interrupted; i++) {
              const rec = await measureOnce(driver, hosts, scenario);
              recs.push(rec);
              log(
                `${driver.name} N=${n} RTT=${rtt} ${scenario} #${i + 1}: ${rec.wallS.toFixed(2)} s wall, ${rec.cpuS.toFixed(2)} s CPU, changed ${rec.changed ?? '?'}, conns ${[...new Set(rec.connections)].join('/')}${rec.execs ? `, execs ${[...new Set(rec.execs)].join('/')}` : ''}${rec.ok ? '' : ' FAILED'}`,
              );
            }
            if (recs.length) results.push(summarize(driver.name, rtt, n, scenario, recs));
          }
        }
        if (args.countAnsibleExecs && n === args.sizes[0] && rtt === args.rtts[0] && !interrupted) {
          for (const scenario of SCENARIO_ORDER) {
            const rec = await measureOnce(ansible, hosts, scenario, true);
            ansibleExecs.set(scenario, rec.execs ?? []);
            log(`ansible -vvv count ${scenario}: execs per host ${[...new Set(rec.execs)].join('/')}`);
          }
        }
      }
    }
    for (const r of results) {
      const counted = ansibleExecs.get(r.scenario);
      if (r.tool === 'ansible' && counted) {
        r.execsPerHost = [...new Set(counted)].sort((a, b) => a - b);
        r.execsSource = `ansible-playbook -vvv "SSH: EXEC" lines, untimed run at N=${args.sizes[0]}, RTT ${args.rtts[0]} ms`;
      }
    }
    if (interrupted) notes.push('The run was interrupted; some points are missing.');
    const single = results
      .filter((r) => r.runs.length < 3)
      .map((r) => `${r.tool} N=${r.n} ${r.rttMs} ms ${r.scenario}`);
    if (single.length) notes.push(`Fewer than 3 runs (time budget), so no median: ${single.join('; ')}.`);
    const failed = results.filter((r) => !r.ok);
    for (const f of failed)
      notes.push(`${f.tool} ${f.scenario} at N=${f.n}, ${f.rttMs} ms: some run failed.`);
    const date = new Date().toISOString().slice(0, 10);
    const outDir = args.quick
      ? path.join(REPO, 'bench', 'results', 'tmp')
      : path.join(REPO, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    const resultsName = `${date}.json`;
    const cfgShown = ansibleCfg({
      forks: Math.max(...args.sizes, 5),
      knownHosts: '<tmp>/ansible/known_hosts',
      controlDir: '<tmp>/ansible/cp',
      localTmp: '<tmp>/ansible/tmp',
    }).replace(/^forks = \d+$/m, 'forks = <N, at least 5>');
    const data: BenchResults = {
      date: new Date().toISOString(),
      durationS: (Date.now() - started) / 1000,
      machine: {
        nproc: os.cpus().length,
        memTotalMb: os.totalmem() / 2 ** 20,
        kernel: os.release(),
        cpu: os.cpus()[0]?.model ?? 'unknown',
      },
      versions: versions(ansibleVersion),
      settings: {
        sizes: args.sizes,
        rtts: args.rtts,
        runPlan:
          args.runs !== undefined
            ? `${args.runs} for both tools at every point`
            : 'orch 3 at every point; Ansible 3 at N ≤ 2, 1 at N ≤ 10, and 1 at larger N at the largest RTT only',
        quick: args.quick,
        ansibleCfg: cfgShown,
      },
      rtt: probes,
      results,
      commands: {
        orch: {
          first: "orch --root <tmp> -o json -j <N> apply '*' --stats --no-progress",
          nochange: "orch --root <tmp> -o json -j <N> apply '*' --stats --no-progress",
          check: "orch --root <tmp> -o json -j <N> apply '*' --stats --no-progress --test",
        },
        ansible: {
          first: 'cd <tmp>/ansible && ANSIBLE_CONFIG=ansible.cfg ansible-playbook playbook.yml',
          nochange: 'cd <tmp>/ansible && ANSIBLE_CONFIG=ansible.cfg ansible-playbook playbook.yml',
          check: 'cd <tmp>/ansible && ANSIBLE_CONFIG=ansible.cfg ansible-playbook playbook.yml --check',
        },
      },
      notes,
    };
    writeFileSync(path.join(outDir, resultsName), `${JSON.stringify(data, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'wall-time.svg'), renderWallTimeSvg(data));
    const mdPath = args.quick ? path.join(outDir, 'BENCHMARKS.md') : path.join(REPO, 'BENCHMARKS.md');
    const rel = (f: string): string => path.relative(path.dirname(mdPath), path.join(outDir, f));
    writeFileSync(
      mdPath,
      renderBenchmarks(data, {
        resultsFile: rel(resultsName),
        svgFile: rel('wall-time.svg'),
        // bench/procs.ts measures processes per host separately (strace, its own hosts); its last section is kept.
        procsSection:
          [PROCS_MD, SCALE_MD]
            .filter((f) => existsSync(f))
            .map((f) => readFileSync(f, 'utf8').trim())
            .join('\n\n') || undefined,
        // The controller-alone and --async start benches own their sections (bench/sections.ts).
        extraSections: storedSections(),
      }),
    );
    log(`wrote ${mdPath}, ${path.join(outDir, resultsName)}, ${path.join(outDir, 'wall-time.svg')}`);
  } finally {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    const downed = await lab.down().catch((err: unknown) => {
      log(`taking the bench's lab hosts down failed: ${String(err)}`);
      return [];
    });
    log(`took down ${downed.length} lab host(s)`);
    rmSync(root, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

let parsed: BenchArgs;
try {
  parsed = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
main(parsed).then(
  async () => {
    // After the main bench's hosts are down; it splices its own section into the page just written.
    if (parsed.flagship) await runFlagship({ replicas: [1, 3], runs: 3 });
    process.exit(0);
  },
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
