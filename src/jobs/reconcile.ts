// Telling the truth about jobs whose runner is gone, whenever someone reads or needs them: a running job whose
// worker process on this machine no longer exists is marked interrupted at once (locks freed), and jobs on other
// machines are marked interrupted once their lease has run out. Readers call this before they show jobs.
import { EXIT } from '../errors/codes.js';
import { goneWorker } from './liveness.js';
import type { JobRecord, JobStore } from './store.js';

/** At most this many running jobs are looked at per read (running jobs are few). */
const MAX_RUNNING = 1000;

/** Mark interrupted every running job whose worker is known to be gone; returns their ids. */
export async function reconcileJobs(store: JobStore, only?: JobRecord[]): Promise<string[]> {
  const done = await store.reapExpired();
  const running = only ?? (await store.list({ status: 'running', limit: MAX_RUNNING }));
  for (const job of running) {
    const why = goneWorker(job);
    if (!why || !job.worker) continue;
    const marked = await store.markInterrupted(job.jid, job.worker, EXIT.ERROR, {
      ...(job.summary ?? {}),
      error: `interrupted: ${why}; hosts without a result were not confirmed`,
    });
    if (marked) done.push(job.jid);
  }
  return done;
}
