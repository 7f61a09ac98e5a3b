// The engine's progress events as a job's host progress: each host's phase, and the last line its apply step
// printed (a base backup's progress), stored while it runs so `orch jobs lookup` shows it; the events still go
// to the live display when there is one.
import type { ProgressEvent } from '../engine/run.js';
import type { JobContext } from './record.js';

/** A progress handler that tells the job and then `onProgress`. */
export function progressToJob(
  ctx: JobContext,
  onProgress?: (e: ProgressEvent) => void,
): (e: ProgressEvent) => void {
  return (e) => {
    if (e.phase === 'output') ctx.hostProgress(e.host, { phase: 'applying', line: e.line });
    else if (e.phase !== 'done') ctx.hostProgress(e.host, { phase: e.phase });
    onProgress?.(e);
  };
}

/** Feeds text chunks and keeps the last non-empty line (\r ends a line too: progress meters redraw with it). */
export function lastLineOf(onLine: (line: string) => void): (chunk: string) => void {
  let partial = '';
  return (chunk) => {
    const parts = (partial + chunk).split(/\r\n|\r|\n/);
    partial = parts.pop() ?? '';
    const line = parts.reverse().find((l) => l.trim() !== '');
    if (line !== undefined) onLine(line.trim().slice(0, 500));
  };
}
