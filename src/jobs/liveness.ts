// Whether the process that runs a job is still there. A job's worker is `<hostname>:<pid>`; on that machine the
// pid is looked up in /proc, and its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) must be
// no later than the job's start, or the pid now belongs to another process. Elsewhere only the lease can tell.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { JobRecord } from './store.js';

/** Leeway for the start-time comparison: /proc/stat's btime has whole seconds. */
const START_SLACK_MS = 2000;

let clockTicks: number | undefined;

/** Why the job's worker is known to be gone, or undefined when it may be alive (or lives on another machine). */
export function goneWorker(job: JobRecord, here: string = os.hostname()): string | undefined {
  if (job.status !== 'running' || !job.worker) return undefined;
  const m = /^(.*):(\d+)$/.exec(job.worker);
  if (!m || m[1] !== here) return undefined;
  const pid = Number(m[2]);
  if (pid === process.pid) return undefined;
  const since = Date.parse(job.startedAt ?? job.createdAt);
  const started = processStartMs(pid);
  if (started === null) return `its worker ${job.worker} is gone (no process ${pid})`;
  if (started !== undefined && Number.isFinite(since) && started > since + START_SLACK_MS) {
    return `its worker ${job.worker} is gone (pid ${pid} now belongs to a process started after the job)`;
  }
  return undefined;
}

/** When a process started (ms since the epoch); null when there is no such process; undefined when unknown. */
export function processStartMs(pid: number): number | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return procMounted() ? null : signalProbe(pid);
    return undefined;
  }
  // comm (field 2) is in parentheses and may hold spaces or ')': count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[22 - 3]);
  const boot = bootTimeMs();
  if (!Number.isFinite(ticks) || boot === undefined) return undefined;
  return boot + (ticks * 1000) / ticksPerSecond();
}

function procMounted(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/** Without /proc: kill(pid, 0) says whether a process exists (EPERM: it does, someone else's). */
function signalProbe(pid: number): null | undefined {
  try {
    process.kill(pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? null : undefined;
  }
}

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    } catch {
      clockTicks = NaN;
    }
    // USER_HZ is 100 on every Linux architecture orch runs on.
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  }
  return clockTicks;
}
