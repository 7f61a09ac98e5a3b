// The two tools under test, driven the way a user runs them: orch's CLI (`apply '*' [--test] --stats -o json`) and
// ansible-playbook ([--check]) with its fast settings. Each writes its own inventory and known_hosts for the
// proxied addresses into the bench's temp project; neither touches the repo's inventory or the user's ~/.ssh.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ansibleExecsByPort, ansibleRecap, orchStats } from './logcount.js';
import { runMeasured, type Measured } from './measure.js';

export type Scenario = 'first' | 'nochange' | 'check';
export type ToolName = 'orch' | 'ansible';

/** One host as both tools reach it: through its proxy. */
export interface ProxiedHost {
  name: string;
  address: string;
  port: number;
}

export interface RunOutcome extends Measured {
  /** Exec channels per host name, when this run could count them. */
  execsPerHost?: Map<string, number>;
  /** The run did what it should (exit 0, no failed or unreachable host). */
  ok: boolean;
  /** Changed states/tasks summed over hosts, when the output says. */
  changed?: number;
}

export interface ToolDriver {
  name: ToolName;
  /** Write inventory and known_hosts for these hosts. */
  prepare(hosts: readonly ProxiedHost[], knownHosts: string): void;
  run(scenario: Scenario, opts?: { countExecs?: boolean }): Promise<RunOutcome>;
}

const TIMEOUT_MS = 900_000;

/** orch's inventory of the bench workload: every host in group `bench`, root with the lab key. */
export function orchInventory(hosts: readonly ProxiedHost[], key: string): string {
  const lines = hosts.map((x) => `  ${x.name}: { address: ${x.address}, port: ${x.port}, groups: [bench] }`);
  return `defaults: { user: root, identity: ${JSON.stringify(key)} }\nhosts:\n${lines.join('\n')}\n`;
}

/** orch, run from the built CLI in the bench's temp project root. */
export function orchDriver(opts: {
  cli: string;
  root: string;
  key: string;
  knownHostsFile: string;
  /** The inventory text for these hosts (default: every host in group `bench`, the bench workload's). */
  inventory?: (hosts: readonly ProxiedHost[], key: string) => string;
}): ToolDriver {
  let hosts: readonly ProxiedHost[] = [];
  return {
    name: 'orch',
    prepare(h, knownHosts) {
      hosts = h;
      mkdirSync(path.join(opts.root, 'inventory'), { recursive: true });
      writeFileSync(
        path.join(opts.root, 'inventory', 'hosts.yaml'),
        (opts.inventory ?? orchInventory)(h, opts.key),
      );
      writeFileSync(opts.knownHostsFile, knownHosts, { mode: 0o600 });
    },
    async run(scenario) {
      const argv = [
        process.execPath,
        opts.cli,
        '--root',
        opts.root,
        '-o',
        'json',
        '-j',
        String(hosts.length),
      ];
      argv.push('apply', '*', '--stats', '--no-progress');
      if (scenario === 'check') argv.push('--test');
      const m = await runMeasured(argv, {
        cwd: opts.root,
        env: { ...process.env, NO_COLOR: '1' },
        timeoutMs: TIMEOUT_MS,
      });
      let stats: ReturnType<typeof orchStats> = [];
      try {
        stats = orchStats(m.stdout);
      } catch {
        /* not JSON: reported as a failed run below */
      }
      const ok = m.code === 0 && stats.length === hosts.length && stats.every((s) => s.ok);
      return {
        ...m,
        ok,
        changed: stats.reduce((a, s) => a + s.changed, 0),
        execsPerHost: new Map(stats.map((s) => [s.host, s.execs])),
      };
    },
  };
}

/** Ansible settings the bench uses (also printed in BENCHMARKS.md). */
export function ansibleCfg(o: {
  forks: number;
  knownHosts: string;
  controlDir: string;
  localTmp: string;
}): string {
  return `[defaults]
inventory = inventory.ini
forks = ${o.forks}
gathering = smart
gather_subset = min
host_key_checking = True
interpreter_python = /usr/bin/python3
remote_user = root
retry_files_enabled = False
local_tmp = ${o.localTmp}
deprecation_warnings = False

[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${o.knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
control_path_dir = ${o.controlDir}
`;
}

/** Ansible's INI inventory: every host in group `bench`, through its proxy, with the lab key. */
export function ansibleInventory(hosts: readonly ProxiedHost[], key: string): string {
  const lines = hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port}`);
  return `[bench]\n${lines.join('\n')}\n\n[bench:vars]\nansible_ssh_private_key_file=${key}\nansible_connection=ssh\n`;
}

/** CPU seconds used so far by ControlPersist masters under controlDir, which leave the run's process tree. */
function mastersUnder(controlDir: string): Array<{ pid: number; cpuS: number }> {
  const out: Array<{ pid: number; cpuS: number }> = [];
  const hz = 100;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // A ControlPersist master renames itself `ssh: <control path> [mux]`.
      if (!cmd.startsWith(`ssh: ${controlDir}/`) || !cmd.includes('[mux]')) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), cpuS: (Number(f[11]) + Number(f[12])) / hz });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** End the masters (processes this bench's runs started), so each run opens its connections afresh. */
async function closeMasters(controlDir: string): Promise<number> {
  const masters = mastersUnder(controlDir);
  for (const m of masters) {
    try {
      process.kill(m.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 50 && mastersUnder(controlDir).length > 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  return masters.reduce((a, m) => a + m.cpuS, 0);
}

/** ansible-playbook in <root>/ansible with its own ansible.cfg, inventory and known_hosts. */
export function ansibleDriver(opts: { dir: string; key: string }): ToolDriver {
  const controlDir = path.join(opts.dir, 'cp');
  const knownHostsFile = path.join(opts.dir, 'known_hosts');
  let hosts: readonly ProxiedHost[] = [];
  return {
    name: 'ansible',
    prepare(h, knownHosts) {
      hosts = h;
      mkdirSync(controlDir, { recursive: true, mode: 0o700 });
      mkdirSync(path.join(opts.dir, 'tmp'), { recursive: true, mode: 0o700 });
      writeFileSync(knownHostsFile, knownHosts, { mode: 0o600 });
      writeFileSync(path.join(opts.dir, 'inventory.ini'), ansibleInventory(h, opts.key));
      writeFileSync(
        path.join(opts.dir, 'ansible.cfg'),
        ansibleCfg({
          forks: Math.max(h.length, 5),
          knownHosts: knownHostsFile,
          controlDir,
          localTmp: path.join(opts.dir, 'tmp'),
        }),
      );
    },
    async run(scenario, runOpts = {}) {
      await closeMasters(controlDir);
      const argv = ['ansible-playbook', 'playbook.yml'];
      if (scenario === 'check') argv.push('--check');
      if (runOpts.countExecs) argv.push('-vvv');
      const m = await runMeasured(argv, {
        cwd: opts.dir,
        env: {
          ...process.env,
          ANSIBLE_CONFIG: path.join(opts.dir, 'ansible.cfg'),
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_FORCE_COLOR: '0',
          ANSIBLE_HOME: path.join(opts.dir, 'home'),
        },
        timeoutMs: TIMEOUT_MS,
      });
      const masterCpu = await closeMasters(controlDir);
      const recap = ansibleRecap(m.stdout);
      const ok =
        m.code === 0 && recap.hosts === hosts.length && recap.failed === 0 && recap.unreachable === 0;
      let execsPerHost: Map<string, number> | undefined;
      if (runOpts.countExecs) {
        const byPort = ansibleExecsByPort(m.stdout);
        execsPerHost = new Map(hosts.map((h) => [h.name, byPort.get(h.port) ?? 0]));
      }
      return { ...m, cpuS: m.cpuS + masterCpu, ok, changed: recap.changed, execsPerHost };
    },
  };
}

/**
 * `ansible-playbook` present (and whatever `need` checks), else install `packages` (default: Debian's ansible-core)
 * with apt-get; returns its version line. Light lab hosts see the controller's /usr, so what is installed here
 * before they start (python3-psycopg2, say) is on them too.
 */
export function ensureAnsible(
  log: (s: string) => void,
  opts: { packages?: string[]; need?: () => boolean } = {},
): string {
  const packages = opts.packages ?? ['ansible-core', 'python3-apt'];
  const version = (): string =>
    execFileSync('ansible-playbook', ['--version'], { encoding: 'utf8', timeout: 60_000 }).split('\n')[0]!;
  const ready = (): string | undefined => {
    try {
      const v = version();
      return !opts.need || opts.need() ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const have = ready();
  if (have) return have;
  log(`installing ${packages.join(' ')} with apt-get (bench only)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]): void => {
    execFileSync('apt-get', args, { stdio: 'inherit', env, timeout: 900_000 });
  };
  try {
    apt(['install', '-y', '-q', '--no-install-recommends', ...packages]);
  } catch {
    apt(['update', '-q']);
    apt(['install', '-y', '-q', '--no-install-recommends', ...packages]);
  }
  const v = ready();
  if (!v) throw new Error(`${packages.join(' ')} installed, but Ansible is still not usable`);
  return v;
}
