// Faults made for real through the built CLI: a project whose hosts are names for one throwaway loopback sshd,
// an orch process that can be signalled, and readers of the job record and host locks straight from the SQLite
// file (what another orch would see). Every wait here is bounded.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { JobRecord } from '../../src/jobs/store.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = path.join(repo, 'dist/src/cli/main.js');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.ORCH_ROOT;
  delete env.ORCH_STATE_DIR;
  if (!('ORCH_JOB_STORE' in extra)) delete env.ORCH_JOB_STORE;
  return env;
}

/**
 * The suite's loopback sshd and temp directory: started before its first test (dist/ built), handed over through
 * `use`, stopped and removed after its last. `settleMs`: a pause before removal, for processes still exiting.
 */
export function loopbackSuite(
  prefix: string,
  use: (sshd: LocalSshd, tmp: string) => void,
  opts: { settleMs?: number } = {},
): void {
  let sshd: LocalSshd | undefined;
  let tmp = '';
  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    ensureBuilt();
    sshd = await startLocalSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
    use(sshd, tmp);
  });
  after(async () => {
    await sshd?.stop();
    if (opts.settleMs) await sleep(opts.settleMs);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
}

/** Build dist/ when a source file is newer than its compiled form. */
export function ensureBuilt(): void {
  const stale = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return stale(p);
      if (!e.name.endsWith('.ts')) return false;
      const out = path.join(repo, 'dist', path.relative(repo, p)).replace(/\.ts$/, '.js');
      return !existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs;
    });
  if (!stale(path.join(repo, 'src'))) return;
  try {
    execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', repo], {
      cwd: repo,
      stdio: 'ignore',
      timeout: 300_000,
    });
  } catch {
    // Type errors elsewhere still emit JavaScript; the CLI below is what is tested.
  }
}

export interface Running {
  child: ChildProcess;
  /** Resolves with the exit code (or 128+n for a signal death) and the output. */
  done: Promise<{ code: number; stdout: string; stderr: string; ms: number }>;
  stderr(): string;
}

/** Start `orch --root root ...args`, killed with SIGKILL after limitMs. */
export function start(root: string, args: string[], env: NodeJS.ProcessEnv = {}, limitMs = 120_000): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, '--root', root, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<{ code: number; stdout: string; stderr: string; ms: number }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const n = code ?? 128 + (os.constants.signals[signal!] ?? 0);
      resolve({ code: n, stdout, stderr, ms: Date.now() - started });
    }),
  );
  return { child, done, stderr: () => stderr };
}

export function orch(root: string, args: string[], env: NodeJS.ProcessEnv = {}, limitMs = 120_000) {
  return start(root, args, env, limitMs).done;
}

/** Poll until pred is true (bounded). */
export async function until(
  what: string,
  pred: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Like until, but fails with the output of run when it exits first. */
export async function untilRunning(
  run: Running,
  what: string,
  pred: () => boolean,
  ms = 30_000,
): Promise<void> {
  let exited: { code: number; stdout: string; stderr: string } | undefined;
  void run.done.then((r) => (exited = r));
  await until(
    what,
    () => {
      if (exited)
        throw new Error(`orch exited ${exited.code} before ${what}:\n${exited.stdout}\n${exited.stderr}`);
      return pred();
    },
    ms,
  );
}

/** The project: hosts a, b, c.example.com all on the loopback sshd (known by name), states per host. */
export function writeProject(
  root: string,
  sshd: LocalSshd,
  states: Record<string, string>,
  top: Record<string, string[]>,
  orchYaml = 'accept_new_hostkeys: true\njobs:\n  lease: 3s\n',
  extraHosts: Record<string, { address: string; port: number; identity?: string }> = {},
): void {
  mkdirSync(path.join(root, 'inventory'), { recursive: true });
  mkdirSync(path.join(root, 'states'), { recursive: true });
  const hosts = ['hosts:'];
  for (const name of ['a.example.com', 'b.example.com', 'c.example.com']) {
    hosts.push(`  ${name}:`, `    address: ${sshd.address}`, `    port: ${sshd.port}`);
    hosts.push(`    user: ${sshd.user}`, `    identity: ${sshd.clientKey}`);
  }
  for (const [name, h] of Object.entries(extraHosts)) {
    hosts.push(`  ${name}:`, `    address: ${h.address}`, `    port: ${h.port}`);
    hosts.push(`    user: ${sshd.user}`, `    identity: ${h.identity ?? sshd.clientKey}`);
  }
  writeFileSync(path.join(root, 'inventory', 'hosts.yaml'), `${hosts.join('\n')}\n`);
  const topText = Object.entries(top)
    .map(([t, s]) => `'${t}': [${s.join(', ')}]`)
    .join('\n');
  writeFileSync(path.join(root, 'states', 'top.yaml'), `${topText}\n`);
  for (const [name, text] of Object.entries(states))
    writeFileSync(path.join(root, 'states', `${name}.yaml`), text);
  writeFileSync(path.join(root, 'orch.yaml'), orchYaml);
}

/** A cmd.run state: `command` runs unless `marker` exists (so a second apply is clean). */
export function cmdState(id: string, command: string, marker: string): string {
  return `${id}:\n  cmd.run:\n    - name: ${JSON.stringify(command)}\n    - creates: ${marker}\n`;
}

function db(root: string): Database.Database {
  return new Database(path.join(root, '.orch', 'jobs.sqlite'), { readonly: true, fileMustExist: true });
}

/** The jobs in the SQLite store, newest first, as another process reads them. */
export function sqliteJobs(root: string): { jid: string; status: string; exit_code: number | null }[] {
  const d = db(root);
  try {
    return d.prepare(`SELECT jid, status, exit_code FROM jobs ORDER BY jid DESC`).all() as never;
  } finally {
    d.close();
  }
}

/** The pid of a job's worker, read straight from the store (a CLI lookup can outlast a short step). */
export function sqliteWorkerPid(root: string, jid: string): number {
  const d = db(root);
  try {
    const row = d.prepare(`SELECT worker FROM jobs WHERE jid = ?`).get(jid) as { worker: string | null };
    const m = /:(\d+)$/.exec(row.worker ?? '');
    if (!m) throw new Error(`job ${jid} has no worker pid: ${row.worker}`);
    return Number(m[1]);
  } finally {
    d.close();
  }
}

/** The host locks held right now. */
export function sqliteLocks(root: string): { host: string; jid: string }[] {
  const d = db(root);
  try {
    return d.prepare(`SELECT host, jid FROM host_locks ORDER BY host`).all() as never;
  } finally {
    d.close();
  }
}

/** A job through `orch jobs lookup -o json`. */
export async function lookup(root: string, jid: string, env: NodeJS.ProcessEnv = {}): Promise<JobRecord> {
  const r = await orch(root, ['-o', 'json', 'jobs', 'lookup', jid], env, 30_000);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JobRecord;
}

/** Wait for the newest job to be running; returns its id. */
export async function runningJob(root: string, ms = 20_000): Promise<string> {
  let jid = '';
  await until(
    'a running job',
    () => {
      if (!existsSync(path.join(root, '.orch', 'jobs.sqlite'))) return false;
      // The store file is created (0600) before its schema: until the CLI has made the tables, nothing runs yet.
      let j: { jid: string; status: string } | undefined;
      try {
        j = sqliteJobs(root)[0];
      } catch (err) {
        if (/no such table/.test((err as Error).message)) return false;
        throw err;
      }
      if (j?.status !== 'running') return false;
      jid = j.jid;
      return true;
    },
    ms,
  );
  return jid;
}

export function hostStatuses(job: JobRecord): Record<string, string> {
  return Object.fromEntries(Object.values(job.hosts).map((h) => [h.host, h.status]));
}
