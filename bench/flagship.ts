// The flagship job side by side: orch's replication formula and an Ansible playbook doing the same job with
// community.postgresql (bench/ansible-flagship/), on light lab hosts, one primary with 1 and with 3 replicas
// (--replicas). The formula builds each cluster first (orch's first converge, timed once); Ansible's first run on it
// must change nothing, and orch --test after Ansible's runs too: both tools hold the same end state. Then no-change and
// check runs of the two tools alternate (medians of --runs), and separate traced runs count each host's processes
// (bench/procs.ts). Writes bench/results/flagship.json and the flagship section of BENCHMARKS.md (bench/sections.ts,
// kept by `npm run bench`); takes down only the hosts it brought up.
// Usage (root, under the lab lock, dist/ built): npm run bench:flagship [-- --replicas 1,3 --runs 3]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../src/config/project.js';
import { execInHost, labDown, labUp, projectLabFiles } from '../src/lab/index.js';
import { decryptValue } from '../src/secrets/crypto.js';
import {
  DEMO_IDENTITY,
  formulaInventory,
  formulaProjectDir,
  writeFormulaHosts,
  type FormulaHost,
} from '../test/helpers/formula-lab.js';
import {
  renderFlagshipSection,
  summarize,
  type FlagshipProcs,
  type FlagshipResults,
  type FlagshipRun,
  type FlagshipScenario,
  type FlagshipSize,
} from './flagship-report.js';
import { readKnownHosts } from './hosts.js';
import { measureWith, remember, runOrch } from './procs.js';
import type { ProcsRow } from './procs-report.js';
import { writeSection } from './sections.js';
import { ansibleDriver, ensureAnsible, orchDriver, type ProxiedHost, type ToolDriver } from './tools.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const COLLECTION = '/usr/lib/python3/dist-packages/ansible_collections/community/postgresql';
const SCENARIOS: FlagshipScenario[] = ['nochange', 'check'];

const log = (s: string): void => {
  process.stderr.write(`[flagship ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

function listArg(name: string, fallback: number[]): number[] {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const v = (process.argv[at + 1] ?? '').split(',').map(Number);
  if (v.length === 0 || v.some((n) => !Number.isInteger(n) || n < 1 || n > 20))
    throw new Error(`${name}: expected integers 1..20, comma-separated`);
  return v;
}

/** Debian's ansible (ships community.postgresql) and psycopg2 for the modules, on the controller. */
export function ensureAnsiblePostgres(): string {
  const psycopg2 = (): boolean => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import psycopg2'], { stdio: 'ignore', timeout: 30_000 });
      return true;
    } catch {
      return false;
    }
  };
  return ensureAnsible(log, {
    packages: ['ansible', 'python3-psycopg2'],
    need: () => existsSync(COLLECTION) && psycopg2(),
  });
}

function versions(ansible: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(COLLECTION, 'MANIFEST.json'), 'utf8')) as {
    collection_info: { version: string };
  };
  const out = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 30_000 }).trim();
    } catch {
      return '?';
    }
  };
  return {
    orch: out('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']),
    node: process.version,
    'ansible-core': ansible.replace(/^ansible-playbook \[core (.*)\]$/, '$1'),
    'community.postgresql': manifest.collection_info.version,
    psycopg2: out('/usr/bin/python3', ['-c', 'import psycopg2; print(psycopg2.__version__.split()[0])']),
    PostgreSQL: out('/bin/sh', ['-c', 'ls /usr/lib/postgresql | sort -n | tail -1']),
  };
}

/** The formula pillar as orch compiles it for the primary (secrets masked) and the replication password. */
async function pillarFor(
  root: string,
  primary: string,
): Promise<{ pg: Record<string, unknown>; password: string }> {
  const json = execFileSync(
    process.execPath,
    [CLI, '--root', root, '-o', 'json', 'pillar', 'show', primary],
    {
      encoding: 'utf8',
      env: { ...process.env, ORCH_AGE_IDENTITY: DEMO_IDENTITY },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const pg = (JSON.parse(json) as { postgres: Record<string, unknown> }).postgres;
  const m = /^ {4}password: !secret (\S+)$/m.exec(
    readFileSync(path.join(root, 'pillar', 'postgres.yaml'), 'utf8'),
  );
  if (!m) throw new Error('no replication password in pillar/postgres.yaml');
  return { pg, password: await decryptValue(m[1]!, [DEMO_IDENTITY]) };
}

/** group_vars for the playbook: the pillar's hosts, addresses, slots, role and password. */
function ansibleVars(pg: Record<string, unknown>, password: string): string {
  const nodes = Object.entries(pg.nodes as Record<string, string>).map(([name, address]) => ({
    name,
    address,
  }));
  const vars = {
    pg_version: String(pg.version),
    pg_port: pg.port,
    pg_primary: pg.primary,
    pg_nodes: nodes,
    pg_slots: pg.slots,
    replication_user: (pg.replication as { user: string }).user,
    replication_password: password,
  };
  // JSON is YAML: no quoting of our own.
  return `# Written by bench/flagship.ts from the formula's pillar.\n${JSON.stringify(vars, null, 2)}\n`;
}

/** ms per phase per host from orch's `-o json` report (undefined when it is not JSON). */
function orchPhases(stdout: string): Record<string, Record<string, number>> | undefined {
  try {
    const r = JSON.parse(stdout) as {
      hosts?: Array<{ host: string; phases?: { phase: string; ms: number }[] }>;
    };
    return Object.fromEntries(
      (r.hosts ?? []).map((h) => [h.host, Object.fromEntries((h.phases ?? []).map((p) => [p.phase, p.ms]))]),
    );
  } catch {
    return undefined;
  }
}

function load1(): number {
  return os.loadavg()[0]!;
}

async function timedRun(
  d: ToolDriver,
  scenario: FlagshipScenario,
  show?: (stdout: string) => void,
): Promise<FlagshipRun> {
  const load = load1();
  const o = await d.run(scenario);
  show?.(o.stdout);
  if (!o.ok) {
    log(`${d.name} ${scenario} FAILED (exit ${o.code})`);
    log(`stdout tail: ${o.stdout.slice(-2000)}`);
    log(`stderr tail: ${o.stderr.slice(-1000)}`);
  }
  const run: FlagshipRun = { wallS: o.wallS, cpuS: o.cpuS, maxRssMb: o.maxRssMb, ok: o.ok, load1: load };
  if (o.changed !== undefined) run.changed = o.changed;
  if (d.name === 'orch') {
    const phases = orchPhases(o.stdout);
    if (phases) run.phases = phases;
  }
  return run;
}

async function measureSize(replicas: number, runs: number): Promise<FlagshipSize> {
  const P = 'flag-primary.example.com';
  const R = Array.from({ length: replicas }, (_, i) => `flag-replica${i + 1}.example.com`);
  const names = [P, ...R];
  const root = formulaProjectDir('orch-flagship-');
  const project = loadProject({ root });
  try {
    log(`primary + ${replicas}: bringing up ${names.length} lab hosts`);
    const up = await labUp(names, { project });
    remember(up);
    const py = await execInHost(P, ['/usr/bin/python3', '-c', 'import psycopg2'], { timeoutMs: 30_000 });
    if (py.code !== 0) throw new Error(`python3 with psycopg2 missing on the lab hosts: ${py.stderr}`);
    const fh = (n: string): FormulaHost => ({ name: n, ip: up.find((h) => h.name === n)!.ip });
    writeFormulaHosts(root, fh(P), R.map(fh));
    const j = ['-j', String(names.length)];
    const first = await runOrch(root, [...j, 'apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (first.code !== 0) throw new Error(`formula first converge failed:\n${first.out.slice(-3000)}`);
    log(`orch first converge: ${(first.ms / 1000).toFixed(2)} s`);

    const key = projectLabFiles(project).key;
    const hosts: ProxiedHost[] = names.map((n) => ({ name: n, address: fh(n).ip, port: 22 }));
    // The lab's known_hosts lines are `name,ip key`: they match the bare address on port 22 for both tools.
    const knownHosts = readKnownHosts(project);
    const orch = orchDriver({
      cli: CLI,
      root,
      key,
      knownHostsFile: project.knownHostsFile,
      inventory: () => formulaInventory(fh(P), R.map(fh)),
    });
    orch.prepare(hosts, knownHosts);
    const dir = path.join(root, 'ansible');
    cpSync(path.join(REPO, 'bench', 'ansible-flagship'), dir, { recursive: true });
    const ansible = ansibleDriver({ dir, key });
    ansible.prepare(hosts, knownHosts);
    const { pg, password } = await pillarFor(root, P);
    mkdirSync(path.join(dir, 'group_vars'), { recursive: true });
    writeFileSync(path.join(dir, 'group_vars', 'bench.yml'), ansibleVars(pg, password), { mode: 0o600 });

    // Its recap shows every task ran (ok) or was skipped where the role does not have it.
    let recap = '';
    const af = await timedRun(ansible, 'nochange', (out) => {
      recap = out.slice(out.lastIndexOf('PLAY RECAP')).trim();
    });
    log(recap);
    log(`ansible first run: ${af.wallS.toFixed(2)} s, changed ${af.changed ?? '?'}${af.ok ? '' : ' FAILED'}`);
    if (!af.ok) throw new Error('the playbook failed on the formula-built cluster; see above');

    const perRun = new Map<string, FlagshipRun[]>();
    for (const scenario of SCENARIOS) {
      // Alternating, so both tools see the same load on this shared machine.
      for (let i = 0; i < runs; i++) {
        for (const d of [orch, ansible]) {
          const run = await timedRun(d, scenario);
          perRun.set(`${d.name} ${scenario}`, [...(perRun.get(`${d.name} ${scenario}`) ?? []), run]);
          log(
            `${d.name} ${scenario} #${i + 1}: ${run.wallS.toFixed(2)} s wall, ${run.cpuS.toFixed(2)} s CPU, changed ${run.changed ?? '?'}, load ${run.load1.toFixed(1)}${run.ok ? '' : ' FAILED'}`,
          );
        }
      }
    }
    const rows: ProcsRow[] = [];
    for (const scenario of SCENARIOS) {
      for (const d of [orch, ansible]) {
        await measureWith(
          rows,
          `${replicas}`,
          `${d.name} ${scenario}`,
          names,
          async () => {
            const o = await d.run(scenario);
            if (!o.ok)
              throw new Error(`${d.name} ${scenario} failed under strace:\n${o.stdout.slice(-2000)}`);
            return { ms: o.wallS * 1000 };
          },
          runs,
        );
      }
    }
    const after = await orch.run('check');
    log(`orch --test after Ansible: changed ${after.changed ?? '?'}${after.ok ? '' : ' FAILED'}`);

    const points = SCENARIOS.flatMap((scenario) =>
      [orch, ansible].map((d) => {
        const procs: FlagshipProcs[] = rows
          .filter((r) => r.command === `${d.name} ${scenario}`)
          .map((r) => ({
            host: r.host,
            role: r.host === P ? 'primary' : 'replica',
            procs: r.procs,
            execs: r.execs,
          }));
        const p = summarize(d.name, scenario, perRun.get(`${d.name} ${scenario}`) ?? [], procs);
        log(
          `${d.name} ${scenario}: median ${p.wallS.toFixed(2)} s; processes ${procs.map((x) => `${x.host.split('.')[0]} ${x.procs}`).join(', ')}`,
        );
        return p;
      }),
    );
    return {
      replicas,
      hosts: names,
      orchFirstS: first.ms / 1000,
      ansibleFirst: { wallS: af.wallS, changed: af.changed ?? NaN, ok: af.ok, recap },
      orchAfterChanged: after.ok ? (after.changed ?? NaN) : NaN,
      points,
    };
  } finally {
    await labDown(names, { project }).catch((err: unknown) => log(`lab down failed: ${String(err)}`));
    rmSync(root, { recursive: true, force: true });
  }
}

/** The whole flagship bench: each cluster size measured, flagship.json and the BENCHMARKS.md section written. */
export async function runFlagship(opts: { replicas: number[]; runs: number }): Promise<FlagshipResults> {
  const started = Date.now();
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: npm run build first`);
  // orch's runs (bench/tools.ts's driver inherits this environment) decrypt the pillar's password with it.
  process.env.ORCH_AGE_IDENTITY = DEMO_IDENTITY;
  // Before any lab host starts: light hosts see the controller's /usr as it was when they started.
  const ansibleVersion = ensureAnsiblePostgres();
  const results: FlagshipResults = {
    date: new Date().toISOString(),
    durationS: 0,
    runs: opts.runs,
    machine: {
      nproc: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memTotalMb: os.totalmem() / 2 ** 20,
      kernel: os.release(),
    },
    versions: versions(ansibleVersion),
    sizes: [],
  };
  for (const n of opts.replicas) results.sizes.push(await measureSize(n, opts.runs));
  results.durationS = (Date.now() - started) / 1000;
  writeFileSync(
    path.join(REPO, 'bench', 'results', 'flagship.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  const md = renderFlagshipSection(results);
  writeSection('flagship', md);
  log(`wrote bench/results/flagship.json and the flagship section of BENCHMARKS.md`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runFlagship({ replicas: listArg('--replicas', [1, 3]), runs: listArg('--runs', [3])[0]! }).then(
    (r) => {
      process.stdout.write(renderFlagshipSection(r));
      process.exit(0);
    },
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
