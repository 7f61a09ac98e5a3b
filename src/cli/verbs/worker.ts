// `orch worker [--drain] [--concurrency N]`: run queued jobs (from --async) until the queue is empty (--drain) or
// forever (a service on the PostgreSQL store). SIGTERM/SIGINT wind its jobs down and record them interrupted.
// Parses argv and wires signals; the loop lives in src/jobs/worker.ts.
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { projectFor } from '../verb.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`wants a positive integer, got '${v}'`);
  return n;
}

/** Register `orch worker`. */
export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'run queued jobs (made by --async): claim, run, record, until stopped or (--drain) the queue is empty',
    )
    .option('--drain', 'exit when the queue is empty and no job is running')
    .option('--concurrency <n>', 'jobs or shards run at once (default 1)', positiveInt)
    .option('-q, --quiet', 'no log lines on stderr')
    .addHelpText(
      'after',
      `
--async starts 'orch worker --drain' by itself unless orch.yaml says jobs: {spawn_worker: false}
(then run 'orch worker' as a service, e.g. on hosts sharing a PostgreSQL job store).
With the PostgreSQL store a worker also claims shards of jobs made with 'orch apply --async --shard-size N':
each shard runs its hosts (only those without a result when it was handed over) under a lease the worker
renews; a dead worker's shard goes to another worker once that lease (orch.yaml jobs.lease) runs out, and the
worker that finishes the last shard ends the job. On SIGTERM/SIGINT a shard is given back once its hosts'
current steps finish; its hosts left without a result run on another worker.
SIGTERM/SIGINT: no new job or host starts, each host's current step finishes, the jobs are recorded
interrupted and their locks freed, then exit 143/130; a second signal exits at once.`,
    )
    .action(async (o: { drain?: boolean; concurrency?: number; quiet?: boolean }, cmd: Command) => {
      const [{ openJobStore }, { JobWorker }, interrupt] = await Promise.all([
        import('../../jobs/open.js'),
        import('../../jobs/worker.js'),
        import('../../jobs/interrupt.js'),
      ]);
      const project = projectFor(cmd);
      const store = await openJobStore(project);
      const log = o.quiet
        ? undefined
        : (line: string) => process.stderr.write(`${new Date().toISOString()} orch worker: ${line}\n`);
      const worker = new JobWorker(project, store, { drain: o.drain, concurrency: o.concurrency, log });
      // First signal: claim nothing more; each running job finishes its hosts' current steps and is recorded
      // interrupted with what they confirmed (recordedRun), locks freed. Second: exit at once (same bookkeeping).
      interrupt.installInterruptHandlers({ notice: (line) => log?.(line.replace(/^orch: /, '')) });
      interrupt.onInterrupt(() => worker.stopClaiming());
      try {
        const { jobs, shards, storeErrors } = await worker.run();
        const ran = `${jobs.length} job(s)${shards.length ? ` and ${shards.length} shard(s)` : ''} run`;
        log?.(`done: ${ran}${storeErrors ? `, ${storeErrors} job store error(s)` : ''}`);
        if (storeErrors > 0) process.exitCode = EXIT.ERROR;
        const signal = interrupt.interruptedBy();
        if (signal) process.exitCode = interrupt.interruptExitCode(signal);
      } finally {
        await store.close();
      }
    });
}
