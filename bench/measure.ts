// Running one tool invocation under GNU time: wall clock (measured here), user+sys CPU and max RSS of the child
// tree (getrusage of waited-for children, as time reports it), and the peak summed RSS of the process group sampled
// from /proc. Each child gets its own process group so a timeout ends exactly what this run started.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTimeOutput } from './logcount.js';

export interface Measured {
  code: number | null;
  wallS: number;
  cpuS: number;
  maxRssMb: number;
  peakTreeRssMb: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const PAGE_KB = 4;

/** Summed RSS (KiB) of every process in process group `pgid`. */
export function groupRssKb(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is state (field 3); pgrp is field 5, rss field 24.
      if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE_KB;
    } catch {
      /* the process ended meanwhile */
    }
  }
  return total;
}

/** Run argv under /usr/bin/time; never rejects on a non-zero exit; ends the process group after timeoutMs. */
export function runMeasured(
  argv: readonly string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; sampleMs?: number },
): Promise<Measured> {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-bench-time-'));
  const timeFile = path.join(dir, 'time.txt');
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid!;
  let stdout = '';
  let stderr = '';
  let peak = 0;
  let timedOut = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const sampler = setInterval(() => {
    peak = Math.max(peak, groupRssKb(pid));
  }, opts.sampleMs ?? 200);
  const killer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = (performance.now() - started) / 1000;
      clearInterval(sampler);
      clearTimeout(killer);
      let t;
      try {
        t = parseTimeOutput(readFileSync(timeFile, 'utf8'));
      } catch {
        t = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        code,
        wallS,
        cpuS: t ? t.userS + t.sysS : NaN,
        maxRssMb: t ? t.maxRssKb / 1024 : NaN,
        peakTreeRssMb: peak / 1024,
        stdout,
        stderr,
        timedOut,
      });
    });
  });
}
