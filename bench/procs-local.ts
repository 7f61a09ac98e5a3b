// bench/procs.ts's count for the bench workload without lab hosts: a throwaway sshd on 127.0.0.1
// (test/helpers/local-sshd.ts) in a private mount namespace whose /etc and /var are overlays, so the workload lands
// in the overlays and nothing on this machine changes. For when the lab is busy; the formula needs the lab.
// Usage: node --import tsx bench/procs-local.ts [--runs 3] [--label after]   (dist/ must be built)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalSshd } from '../test/helpers/local-sshd.js';
import { measure, runOrch, saveRows, sshdPids } from './procs.js';
import type { ProcsRow } from './procs-report.js';

const REPO = path.resolve(import.meta.dirname, '..');
const HOST = 'local.example.com';

/** Re-run this file inside `unshare -m` with overlays on /etc and /var (upper dirs in a temp dir). */
function inSandbox(): never {
  const t = mkdtempSync(path.join(os.tmpdir(), 'orch-procs-ovl-'));
  const mounts = ['etc', 'var']
    .map((d) => {
      for (const s of ['u', 'w']) mkdirSync(path.join(t, `${d}-${s}`));
      return `mount -t overlay overlay -o lowerdir=/${d},upperdir=${t}/${d}-u,workdir=${t}/${d}-w /${d}`;
    })
    .join(' && ');
  const r = spawnSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      `${mounts} && exec "$0" "$@"`,
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, ORCH_PROCS_SANDBOX: '1' } },
  );
  rmSync(t, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

/** The pid of the sshd started with this config file (a process of ours). */
function sshdPidFor(config: string): number {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // sshd rewrites its title ("sshd: /usr/sbin/sshd -D -e -f <config> [listener] ..."): match the config's path.
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd' && cmd.includes(config)) return Number(p);
    } catch {
      /* gone */
    }
  }
  throw new Error(`no sshd with ${config}`);
}

/** The benchsvc daemon the workload starts, stopped by the pid its pid file names. */
function stopBenchsvc(): void {
  try {
    process.kill(Number(readFileSync('/run/benchsvc.pid', 'utf8').trim()), 'SIGTERM');
  } catch {
    /* not started, or its /run is the sshd's own tmpfs: stopped through the service below */
  }
}

async function main(): Promise<void> {
  if (process.env.ORCH_PROCS_SANDBOX !== '1') inSandbox();
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
  const labelAt = process.argv.indexOf('--label');
  const label = labelAt > 0 ? process.argv[labelAt + 1]! : 'current';
  const sshd = await startLocalSshd();
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-procs-local-'));
  const rows: ProcsRow[] = [];
  try {
    cpSync(path.join(REPO, 'bench', 'project-template'), root, { recursive: true });
    mkdirSync(path.join(root, 'inventory'), { recursive: true });
    writeFileSync(
      path.join(root, 'inventory', 'hosts.yaml'),
      `defaults: { user: root, identity: ${JSON.stringify(sshd.clientKey)} }\nhosts:\n  ${HOST}: { address: 127.0.0.1, port: ${sshd.port} }\n`,
    );
    sshdPids.set(HOST, sshdPidFor(path.join(sshd.dir, 'sshd_config')));
    const first = await runOrch(root, ['apply', '*', '--accept-new-hostkeys', '--no-progress']);
    if (first.code !== 0) throw new Error(`first converge failed:\n${first.out.slice(-2000)}`);
    const w = 'bench (20 states), local sshd';
    await measure(rows, w, root, [HOST], ['run', '*', '--', 'true'], runs);
    await measure(rows, w, root, [HOST], ['facts', '*'], runs);
    await measure(rows, w, root, [HOST], ['apply', '*', '--no-progress'], runs);
  } finally {
    await runOrch(root, ['run', '*', '--', 'service', 'benchsvc', 'stop']).catch(() => undefined);
    stopBenchsvc();
    await sshd.stop();
    rmSync(root, { recursive: true, force: true });
  }
  saveRows(rows, runs, label);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
