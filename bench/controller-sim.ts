// The controller alone: orch against simulated hosts (bench/sim/ssh-sim.ts, a separate process: real SSH
// handshakes and channels on loopback ports, answers replayed from a recording of a real lab host), so only the
// controller's cost is measured: wall time, CPU (user+sys of the orch process alone), peak RSS and peak open
// descriptors of a no-change `orch apply '*'` of the bench workload at each size. Writes
// bench/results/controller-sim.json, bench/results/controller-sim.svg and the section of BENCHMARKS.md.
// Usage: npm run bench:controller [-- --sizes 500,1000,2000,5000 -j 200 --runs 1]
//        npm run bench:controller -- --record   (once, under the lab lock: makes the recording from a lab host)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { loadProject } from '../src/config/project.js';
import { labDown, labStatus, labUp, projectLabFiles } from '../src/lab/index.js';
import { runMeasured } from './measure.js';
import { writeSection } from './sections.js';
import { median } from './stats.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const RECORDING = path.join(REPO, 'bench', 'fixtures', 'controller-sim.recording.json');
const SIM = path.join(REPO, 'bench', 'sim', 'ssh-sim.ts');
const BASE_PORT = 23000;
const REC_HOST = 'simrec01.example.com';

const log = (s: string): void => {
  process.stderr.write(`[controller-sim ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

interface Point {
  hosts: number;
  parallel: number;
  wallS: number;
  cpuS: number;
  cpuMsPerHost: number;
  maxRssMb: number;
  peakFds: number;
  changed: number;
  ok: boolean;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A temp project with the bench workload, a client key, and `n` hosts on consecutive loopback ports. */
function simProject(
  n: number,
  hostKeyPub: string,
  nameOf: (i: number) => string = (i) => `sim${String(i + 1).padStart(5, '0')}.example.com`,
): { root: string; hostKeyFile: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-ctlsim-'));
  cpSync(path.join(REPO, 'bench', 'project-template'), root, { recursive: true });
  rmSync(path.join(root, 'ansible'), { recursive: true, force: true });
  const keys = ssh2.utils.generateKeyPairSync('ed25519');
  mkdirSync(path.join(root, '.orch'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(root, '.orch', 'id_sim'), keys.private, { mode: 0o600 });
  const names = Array.from({ length: n }, (_, i) => nameOf(i));
  const inv = ['defaults:', '  user: root', '  identity: .orch/id_sim', 'hosts:'];
  const kh: string[] = [];
  names.forEach((name, i) => {
    inv.push(`  ${name}:`, '    address: 127.0.0.1', `    port: ${BASE_PORT + i}`);
    kh.push(`[127.0.0.1]:${BASE_PORT + i} ${hostKeyPub}`);
  });
  rmSync(path.join(root, 'inventory'), { recursive: true, force: true });
  mkdirSync(path.join(root, 'inventory'));
  writeFileSync(path.join(root, 'inventory', 'hosts.yaml'), `${inv.join('\n')}\n`);
  writeFileSync(path.join(root, '.orch', 'known_hosts'), `${kh.join('\n')}\n`);
  const hostKeyFile = path.join(root, '.orch', 'sim_host_key');
  return { root, hostKeyFile };
}

/** Start the simulated hosts; resolves once every port listens. */
function startSim(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIM, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().startsWith('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`ssh-sim exited ${code}`)));
  });
}

/** Peak open descriptors of the orch process under /usr/bin/time (its only child), sampled. */
function fdSampler(timePid: () => number | undefined): { stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    const pid = timePid();
    if (pid === undefined) return;
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
      for (const k of kids) if (k) peak = Math.max(peak, readdirSync(`/proc/${k}/fd`).length);
    } catch {
      /* not started yet, or ended */
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(t);
      return peak;
    },
  };
}

async function orchApply(
  root: string,
  parallel: number,
  extra: string[] = [],
): Promise<Omit<Point, 'hosts'>> {
  let timePid: number | undefined;
  const fds = fdSampler(() => timePid);
  const probe = setInterval(() => {
    // runMeasured's child is /usr/bin/time in its own process group: find it by our children.
    try {
      const kids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/);
      for (const k of kids) {
        if (readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'time') timePid = Number(k);
      }
    } catch {
      /* ignore */
    }
  }, 50);
  const out = await runMeasured(
    [
      process.execPath,
      // ORCH_BENCH_NODE_FLAGS: e.g. --cpu-prof --cpu-prof-dir=/tmp/prof, to profile the controller.
      ...(process.env.ORCH_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      CLI,
      '--root',
      root,
      '-o',
      'json',
      '-j',
      String(parallel),
      'apply',
      '*',
      '--no-progress',
      ...extra,
    ],
    { cwd: root, timeoutMs: 1_800_000 },
  );
  clearInterval(probe);
  const peakFds = fds.stop();
  let changed = NaN;
  let failed = 0;
  try {
    const report = JSON.parse(out.stdout) as {
      hosts: Record<
        string,
        { states?: { status?: string; result?: boolean; changes?: unknown }[] } | unknown
      >;
    };
    const text = out.stdout;
    changed = (text.match(/"status": "changed"/g) ?? []).length;
    failed = (text.match(/"status": "(failed|error|unreachable)"/g) ?? []).length;
    void report;
  } catch {
    log(`could not read the report (exit ${out.code}): ${out.stderr.slice(-800)}`);
  }
  if (out.code !== 0 || failed > 0) {
    // Which hosts failed and why, briefly: under heavy load connections time out.
    const why = [...new Set(out.stdout.match(/"(comment|error|message)": "[^"]{0,160}/g) ?? [])].slice(0, 5);
    log(`run failed (exit ${out.code}, ${failed} failed): ${why.join(' | ')} ${out.stderr.slice(-400)}`);
  }
  return {
    parallel,
    wallS: out.wallS,
    cpuS: out.cpuS,
    cpuMsPerHost: NaN,
    maxRssMb: out.maxRssMb,
    peakFds,
    changed,
    ok: out.code === 0 && failed === 0,
  };
}

/** Make the recording: converge a lab host, then one no-change run through ssh-sim in record mode. */
async function record(): Promise<void> {
  const hostKeys = ssh2.utils.generateKeyPairSync('ed25519');
  // Under the lab host's own name: its templates render as on the host, so the recorded run changes nothing.
  const { root, hostKeyFile } = simProject(1, hostKeys.public, () => REC_HOST);
  writeFileSync(hostKeyFile, hostKeys.private, { mode: 0o600 });
  const project = loadProject({ root });
  const before = (await labStatus()).some((h) => h.name === REC_HOST && h.alive);
  const [lab] = await labUp([REC_HOST], { project, log });
  let sim: ChildProcess | undefined;
  try {
    const labKey = projectLabFiles(project).key;
    // Converge it directly (the lab's own inventory entry), so the recorded run is a no-change run.
    const direct = spawnSync(
      process.execPath,
      [CLI, '--root', root, '-i', projectLabFiles(project).inventory, 'apply', REC_HOST, '--no-progress'],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    if (direct.status !== 0)
      throw new Error(`converging ${REC_HOST} failed: ${direct.stdout}${direct.stderr}`);
    // The lab wrote its host's key into the project's known_hosts: the simulated host's line goes back in.
    const kh = path.join(root, '.orch', 'known_hosts');
    const simLine = `[127.0.0.1]:${BASE_PORT} ${hostKeys.public}`;
    const khText = existsSync(kh) ? readFileSync(kh, 'utf8') : '';
    if (!khText.includes(simLine)) writeFileSync(kh, `${khText.trimEnd()}\n${simLine}\n`);
    const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).stdout.trim();
    mkdirSync(path.dirname(RECORDING), { recursive: true });
    writeFileSync(
      RECORDING,
      `${JSON.stringify({ recordedAt: new Date().toISOString(), orch: rev, command: "orch apply '*' (no change, bench workload)", execs: [] }, null, 2)}\n`,
    );
    sim = await startSim([
      '--hosts',
      '1',
      '--base-port',
      String(BASE_PORT),
      '--host-key',
      hostKeyFile,
      '--recording',
      RECORDING,
      '--record',
      '--upstream',
      `${lab!.ip}:22`,
      '--upstream-key',
      labKey,
    ]);
    const r = await orchApply(root, 1);
    log(`recorded no-change run: exit ok=${r.ok}, changed ${r.changed}`);
    if (!r.ok || r.changed !== 0) throw new Error('the recorded run was not a clean no-change run');
  } finally {
    sim?.kill('SIGTERM');
    if (!before && !process.argv.includes('--keep-lab'))
      await labDown([REC_HOST], { project }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  log(`wrote ${path.relative(REPO, RECORDING)}`);
}

function renderSvg(points: Point[]): string {
  const W = 560;
  const H = 300;
  const L = 60;
  const B = 40;
  const maxX = Math.max(...points.map((p) => p.hosts));
  const maxY = Math.max(...points.map((p) => Math.max(p.cpuS, p.wallS))) * 1.1;
  const x = (v: number): number => L + (v / maxX) * (W - L - 20);
  const y = (v: number): number => H - B - (v / maxY) * (H - B - 20);
  const line = (k: 'cpuS' | 'wallS', color: string): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${x(p.hosts).toFixed(1)},${y(p[k]).toFixed(1)}`).join(' ')}"/>` +
    points
      .map((p) => `<circle cx="${x(p.hosts).toFixed(1)}" cy="${y(p[k]).toFixed(1)}" r="3" fill="${color}"/>`)
      .join('');
  const xt = points
    .map(
      (p) =>
        `<text x="${x(p.hosts).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${p.hosts}</text>`,
    )
    .join('');
  const yt = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text x="${L - 6}" y="${(y(maxY * f) + 4).toFixed(1)}" font-size="11" text-anchor="end">${(maxY * f).toFixed(0)} s</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="20" x2="${L}" y2="${H - B}" stroke="black"/>
${xt}${yt}${line('wallS', '#1f77b4')}${line('cpuS', '#d62728')}
<text x="${W / 2}" y="${H - 6}" font-size="12" text-anchor="middle">simulated hosts (no-change orch apply)</text>
<text x="${L + 10}" y="16" font-size="12" fill="#1f77b4">wall</text><text x="${L + 50}" y="16" font-size="12" fill="#d62728">controller CPU</text>
</svg>
`;
}

function goals(points: Point[]): string {
  const at = (n: number): Point | undefined => points.find((p) => p.hosts === n);
  const mark = (ok: boolean | undefined): string =>
    ok === undefined ? 'not measured' : ok ? 'met' : 'missed';
  const k = at(1000);
  const big = points.at(-1);
  return [
    `Goals: ≤ 10 ms CPU per host at 1,000: ${mark(k && k.cpuMsPerHost <= 10)}`,
    `1,000 hosts ≤ 15 s: ${mark(k && k.wallS <= 15)}`,
    `RSS ≤ 500 MB at ${big?.hosts ?? '–'}: ${mark(big && big.maxRssMb <= 500)}`,
    `CPU per host not growing with size: ${mark(points.length > 1 ? points.every((p, i) => i === 0 || p.cpuMsPerHost <= points[i - 1]!.cpuMsPerHost * 1.1) : undefined)}.`,
  ].join('; ');
}

function renderSection(points: Point[], rec: { recordedAt: string; orch: string }): string {
  const rows = points.map(
    (p) =>
      `| ${p.hosts} | ${p.parallel} | ${p.wallS.toFixed(1)} s | ${p.cpuS.toFixed(1)} s | ${p.cpuMsPerHost.toFixed(1)} ms | ${p.maxRssMb.toFixed(0)} MB | ${p.peakFds} | ${p.changed}${p.ok ? '' : ' (failed)'} |`,
  );
  return `## The controller alone (simulated hosts)

\`npm run bench:controller\`: a no-change \`orch apply '*'\` of the bench workload against simulated hosts
(bench/sim/ssh-sim.ts, a separate process: ssh2's server side on one loopback port per host, real handshakes with
host keys checked against a generated known_hosts, real exec channels, each answered from a recording of a real
lab host, bench/fixtures/controller-sim.recording.json, recorded ${rec.recordedAt.slice(0, 10)} at ${rec.orch}).
Only the orch process is measured: CPU is its user+sys, RSS its peak, descriptors its peak open fds (sampled).
Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPUs shared with the simulator (and with other work: wall times are upper bounds). Goals: ≤ 10 ms CPU per host,
1,000 hosts ≤ 15 s, RSS ≤ 500 MB, linear growth.

| hosts | -j | wall | controller CPU | CPU per host | peak RSS | peak fds | changed |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

${goals(points)}

Every connection is held from facts to the end of its host's run (all hosts are compiled before any is changed),
so descriptors and RSS follow the number of hosts, not \`-j\`.

![controller alone](bench/results/controller-sim.svg)
`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--record')) return record();
  if (process.argv.includes('--from-json')) {
    // Re-render the section and plot from the last results (after a change of the page's wording).
    const last = JSON.parse(
      readFileSync(path.join(REPO, 'bench', 'results', 'controller-sim.json'), 'utf8'),
    ) as {
      recording: { recordedAt: string; orch: string };
      points: Point[];
    };
    writeFileSync(path.join(REPO, 'bench', 'results', 'controller-sim.svg'), renderSvg(last.points));
    writeSection('controller-sim', renderSection(last.points, last.recording));
    return;
  }
  if (!existsSync(RECORDING)) throw new Error(`${RECORDING} missing: run with --record once (needs the lab)`);
  const rec = JSON.parse(readFileSync(RECORDING, 'utf8')) as { recordedAt: string; orch: string };
  const sizes = (flag('--sizes') ?? '500,1000,2000,5000').split(',').map(Number);
  const parallel = Number(flag('-j') ?? 200);
  const runs = Number(flag('--runs') ?? 1);
  const points: Point[] = [];
  const hostKeys = ssh2.utils.generateKeyPairSync('ed25519');
  for (const n of sizes) {
    const { root, hostKeyFile } = simProject(n, hostKeys.public);
    writeFileSync(hostKeyFile, hostKeys.private, { mode: 0o600 });
    const sim = await startSim([
      '--hosts',
      String(n),
      '--base-port',
      String(BASE_PORT),
      '--host-key',
      hostKeyFile,
      '--recording',
      RECORDING,
    ]);
    try {
      const got: Omit<Point, 'hosts'>[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await orchApply(root, Math.min(parallel, n));
        log(
          `N=${n} -j ${Math.min(parallel, n)}: ${r.wallS.toFixed(2)} s wall, ${r.cpuS.toFixed(2)} s CPU, ${r.maxRssMb.toFixed(0)} MB, ${r.peakFds} fds, changed ${r.changed}${r.ok ? '' : ' FAILED'}`,
        );
        got.push(r);
      }
      const cpuS = median(got.map((g) => g.cpuS));
      points.push({
        hosts: n,
        parallel: got[0]!.parallel,
        wallS: median(got.map((g) => g.wallS)),
        cpuS,
        cpuMsPerHost: (cpuS * 1000) / n,
        maxRssMb: Math.max(...got.map((g) => g.maxRssMb)),
        peakFds: Math.max(...got.map((g) => g.peakFds)),
        changed: Math.max(...got.map((g) => g.changed)),
        ok: got.every((g) => g.ok),
      });
    } finally {
      sim.kill('SIGTERM');
      rmSync(root, { recursive: true, force: true });
    }
  }
  const outDir = path.join(REPO, 'bench', 'results');
  writeFileSync(
    path.join(outDir, 'controller-sim.json'),
    `${JSON.stringify({ date: new Date().toISOString(), recording: rec, points }, null, 2)}\n`,
  );
  writeFileSync(path.join(outDir, 'controller-sim.svg'), renderSvg(points));
  if (!process.argv.includes('--no-write')) writeSection('controller-sim', renderSection(points, rec));
  process.stdout.write(renderSection(points, rec));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
