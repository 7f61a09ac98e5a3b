// Installs, lists and removes nightly drift schedules on the controller: systemd units in a unit directory
// (enabled with systemctl only when it is the system's directory and systemd runs), or a marked line in the
// current user's crontab (through `crontab -l` / `crontab -`, or a plain file for tests). It touches only its own
// units and its own marked lines. systemctl and crontab run with a scrubbed environment (src/secrets/child-env.ts).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { OrchError, errorMessage } from '../errors.js';
import { scrubbedEnv } from '../secrets/child-env.js';
import {
  MARKER,
  cronEntries,
  cronLine,
  removeCronEntry,
  setCronEntry,
  systemdUnits,
  type ListedSchedule,
  type ScheduleSpec,
} from './text.js';

const run = promisify(execFile);
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

export interface Where {
  /** Unit directory (default /etc/systemd/system; systemctl is used only for that one). */
  unitDir?: string;
  /** A crontab file to edit instead of the user's crontab (tests). */
  crontabFile?: string;
}

/** True when systemd is the running init (the sd_booted() test). */
export function systemdRuns(): boolean {
  return existsSync('/run/systemd/system');
}

/** systemd when it runs and its unit directory is writable for us (root), else cron. */
export function defaultKind(): 'systemd' | 'cron' {
  return systemdRuns() && process.getuid?.() === 0 ? 'systemd' : 'cron';
}

async function systemctl(args: string[]): Promise<void> {
  try {
    await run('systemctl', args, { timeout: 60_000, env: scrubbedEnv() });
  } catch (err) {
    throw new OrchError('INTERNAL', `systemctl ${args.join(' ')} failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

const usesSystemctl = (dir: string) => path.resolve(dir) === SYSTEM_UNIT_DIR && systemdRuns();

/** Write the units (and enable the timer when they are the system's); returns the files written. */
export async function installSystemd(spec: ScheduleSpec, where: Where = {}): Promise<string[]> {
  const dir = where.unitDir ?? SYSTEM_UNIT_DIR;
  mkdirSync(dir, { recursive: true });
  const { service, timer } = systemdUnits(spec);
  const files = [path.join(dir, `${spec.name}.service`), path.join(dir, `${spec.name}.timer`)];
  writeFileSync(files[0]!, service, { mode: 0o644 });
  writeFileSync(files[1]!, timer, { mode: 0o644 });
  if (usesSystemctl(dir)) {
    await systemctl(['daemon-reload']);
    await systemctl(['enable', '--now', `${spec.name}.timer`]);
  }
  return files;
}

/** The user's crontab text (empty when there is none). */
async function readCrontab(where: Where): Promise<string> {
  if (where.crontabFile) return existsSync(where.crontabFile) ? readFileSync(where.crontabFile, 'utf8') : '';
  try {
    const { stdout } = await run('crontab', ['-l'], { timeout: 30_000, env: scrubbedEnv() });
    return stdout;
  } catch (err) {
    // "no crontab for <user>" exits 1 with nothing on stdout.
    const e = err as { code?: number | string; stderr?: string };
    if (e.code === 1 && /no crontab/i.test(e.stderr ?? '')) return '';
    if (e.code === 'ENOENT')
      throw new OrchError('INTERNAL', 'no crontab command on this machine: use --systemd or install cron');
    throw new OrchError('INTERNAL', `crontab -l failed: ${errorMessage(err)}`, { cause: err });
  }
}

async function writeCrontab(text: string, where: Where): Promise<void> {
  if (where.crontabFile) {
    writeFileSync(where.crontabFile, text, { mode: 0o600 });
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('crontab', ['-'], { stdio: ['pipe', 'ignore', 'pipe'], env: scrubbedEnv() });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new OrchError('INTERNAL', `crontab - failed: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new OrchError('INTERNAL', `crontab - failed (exit ${code ?? 'signal'}): ${stderr.trim()}`));
    });
    child.stdin.end(text);
  });
}

/** Add or replace the schedule's line in the crontab; returns the line. */
export async function installCron(spec: ScheduleSpec, where: Where = {}): Promise<string> {
  const line = cronLine(spec);
  await writeCrontab(setCronEntry(await readCrontab(where), spec.name, line), where);
  return line;
}

function systemdEntries(dir: string): ListedSchedule[] {
  if (!existsSync(dir)) return [];
  const out: ListedSchedule[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => /^orch-drift-[a-z0-9-]+\.timer$/.test(n))
    .sort()) {
    const timer = readFileSync(path.join(dir, f), 'utf8');
    if (!timer.startsWith(MARKER)) continue;
    const name = f.replace(/\.timer$/, '');
    const at = /^OnCalendar=\*-\*-\* (\d\d:\d\d):00$/m.exec(timer)?.[1] ?? '?';
    const svcFile = path.join(dir, `${name}.service`);
    const command = existsSync(svcFile)
      ? (/^ExecStart=(.*)$/m.exec(readFileSync(svcFile, 'utf8'))?.[1] ?? '')
      : '';
    out.push({ name, kind: 'systemd', at, command, where: dir });
  }
  return out;
}

/** Every orch schedule: systemd units in the unit dir and marked crontab lines. */
export async function listSchedules(where: Where = {}): Promise<ListedSchedule[]> {
  const dir = where.unitDir ?? SYSTEM_UNIT_DIR;
  const units = systemdEntries(dir);
  let cron: ListedSchedule[] = [];
  try {
    cron = cronEntries(await readCrontab(where), where.crontabFile ?? 'crontab');
  } catch (err) {
    // No cron on this machine is not an error when listing.
    if (!(err instanceof OrchError && /no crontab command/.test(err.message))) throw err;
  }
  return [...units, ...cron];
}

/** Remove a schedule wherever it is; returns what was removed (empty when nothing matched). */
export async function removeSchedule(name: string, where: Where = {}): Promise<string[]> {
  const removed: string[] = [];
  const dir = where.unitDir ?? SYSTEM_UNIT_DIR;
  const timer = path.join(dir, `${name}.timer`);
  const service = path.join(dir, `${name}.service`);
  if (existsSync(timer) && readFileSync(timer, 'utf8').startsWith(MARKER)) {
    if (usesSystemctl(dir)) await systemctl(['disable', '--now', `${name}.timer`]);
    for (const f of [timer, service]) {
      if (existsSync(f)) {
        rmSync(f);
        removed.push(f);
      }
    }
    if (usesSystemctl(dir)) await systemctl(['daemon-reload']);
  }
  let crontab: string | undefined;
  try {
    crontab = await readCrontab(where);
  } catch (err) {
    if (!(err instanceof OrchError && /no crontab command/.test(err.message))) throw err;
  }
  if (crontab !== undefined) {
    const { text, removed: n } = removeCronEntry(crontab, name);
    if (n > 0) {
      await writeCrontab(text, where);
      removed.push(`${n} crontab line(s) in ${where.crontabFile ?? 'the crontab'}`);
    }
  }
  return removed;
}
