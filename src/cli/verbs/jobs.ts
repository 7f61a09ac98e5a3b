// `orch jobs list|lookup|wait|cancel|prune`: read and manage the job history. Parses argv and prints; the store
// and the views live in src/jobs (imported lazily so `orch --help` stays fast).
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { JOB_STATUSES, type JobRecord, type JobStatus, type JobStore } from '../../jobs/store.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`wants a positive integer, got '${v}'`);
  return n;
}

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`wants a positive number of seconds, got '${v}'`);
  return n;
}

function jobStatus(v: string): JobStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`unknown status '${v}' (one of ${JOB_STATUSES.join(', ')})`);
  }
  return v as JobStatus;
}

/** Open the project's store, run fn, close it. Jobs whose worker is gone are marked interrupted first, so what
 * is shown is true (a store that cannot be written to is still read). */
async function withStore<T>(cmd: Command, fn: (store: JobStore) => Promise<T>): Promise<T> {
  const [{ openJobStore }, { reconcileJobs }] = await Promise.all([
    import('../../jobs/open.js'),
    import('../../jobs/reconcile.js'),
  ]);
  const store = await openJobStore(projectFor(cmd));
  try {
    await reconcileJobs(store).catch((e: unknown) =>
      process.stderr.write(`orch: warning: could not check for jobs whose worker is gone: ${String(e)}\n`),
    );
    return await fn(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** A job by id (exit 4 for a malformed or unknown id). */
async function findJob(store: JobStore, text: string): Promise<JobRecord> {
  const { checkJid, unknownJob } = await import('../../jobs/jobs-verbs.js');
  const jid = checkJid(text);
  const job = await store.get(jid);
  if (!job) throw unknownJob(jid);
  return job;
}

interface ListFlags {
  host?: string;
  target?: string;
  verb?: string;
  status?: JobStatus;
  since?: string;
  limit?: number;
}

/** Register `orch jobs` and its subverbs. */
export function register(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('job history: every apply, test run, drift check and orch run, sync or --async')
    .addHelpText(
      'after',
      `
Examples:
  orch jobs list --since 2h --status failed
  orch jobs lookup 20261121093015123456
  orch jobs wait 20261121093015123456 --timeout 600`,
    );

  jobs
    .command('list')
    .description('list jobs, newest first (jid, verb, target, user, started, duration, status, counts)')
    .option('--host <name>', 'jobs that targeted or touched this host')
    .option('--target <target>', 'jobs made with exactly this target')
    .option('--verb <verb>', 'jobs of this verb (apply, run, drift)')
    .option('--status <status>', `jobs in this status (${JOB_STATUSES.join(', ')})`, jobStatus)
    .option('--since <when>', 'jobs created since: a duration back from now (2h, 7d) or an ISO date')
    .option('--limit <n>', 'at most n jobs (default 100)', positiveInt)
    .action(async (o: ListFlags, cmd: Command) => {
      const [{ jobsTable }, { parseSince }] = await Promise.all([
        import('../../jobs/jobs-verbs.js'),
        import('../../jobs/settings.js'),
      ]);
      const since = o.since === undefined ? undefined : parseSince(o.since);
      const list = await withStore(cmd, (store) =>
        store.list({ host: o.host, target: o.target, verb: o.verb, status: o.status, since, limit: o.limit }),
      );
      if (globalOptions(cmd).output === 'json') {
        printJson(list.map(({ hosts, ...job }) => ({ ...job, hostStatus: hostStatuses(hosts) })));
      } else process.stdout.write(jobsTable(list));
    });

  jobs
    .command('lookup')
    .description("one job's per-host, per-state results, as the command printed them (partial while running)")
    .argument('<jid>', 'job id (20 digits)')
    .option('-v, --verbose', 'list clean states too')
    .action(async (jidText: string, o: { verbose?: boolean }, cmd: Command) => {
      // A drift job reads as `orch drift show` prints it (the drift kind's lookupText).
      const { jobText } = await import('../../jobs/jobs-verbs.js');
      const job = await withStore(cmd, (store) => findJob(store, jidText));
      if (globalOptions(cmd).output === 'json') printJson(job);
      else process.stdout.write(jobText(job, { verbose: o.verbose }));
    });

  jobs
    .command('wait')
    .description("wait until a job ends; exits with the job's exit code")
    .argument('<jid>', 'job id (20 digits)')
    .option(
      '--timeout <s>',
      'give up after this many seconds (default 3600; exit 5 when still running)',
      positiveSeconds,
    )
    .action(async (jidText: string, o: { timeout?: number }, cmd: Command) => {
      const [{ waitLine, isFinal }, { reconcileJobs }] = await Promise.all([
        import('../../jobs/jobs-verbs.js'),
        import('../../jobs/reconcile.js'),
      ]);
      const timeoutMs = (o.timeout ?? 3600) * 1000;
      const job = await withStore(cmd, async (store) => {
        let current = await findJob(store, jidText);
        const deadline = Date.now() + timeoutMs;
        let pause = 100;
        while (!isFinal(current) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - Date.now()))));
          pause = Math.min(pause * 2, 1000);
          // A dead runner's job ends at once here (same machine) or when its lease does (elsewhere).
          await reconcileJobs(store, [current]).catch(() => undefined);
          current = (await store.get(current.jid)) ?? current;
        }
        return current;
      });
      if (globalOptions(cmd).output === 'json') printJson(job);
      if (!isFinal(job)) {
        process.stderr.write(`orch: job ${job.jid} is still ${job.status} after ${timeoutMs / 1000}s\n`);
        process.exitCode = EXIT.ERROR;
        return;
      }
      if (globalOptions(cmd).output !== 'json') process.stdout.write(waitLine(job));
      process.exitCode = job.exitCode ?? EXIT.ERROR;
    });

  jobs
    .command('cancel')
    .description(
      'cancel a job: a queued one at once; a running one stops at its next safe point (before its next host, and on a host being changed before its next state) and frees its locks',
    )
    .argument('<jid>', 'job id (20 digits)')
    .action(async (jidText: string, _o: unknown, cmd: Command) => {
      const { checkJid, unknownJob } = await import('../../jobs/jobs-verbs.js');
      const jid = checkJid(jidText);
      const job = await withStore(cmd, async (store) => {
        const before = await store.get(jid);
        if (!before) throw unknownJob(jid);
        const after = await store.requestCancel(jid);
        return { before, after: after ?? before };
      });
      if (globalOptions(cmd).output === 'json') return printJson(job.after);
      const { before, after } = job;
      if (before.status === 'queued') process.stdout.write(`job ${jid} cancelled (it had not started)\n`);
      else if (before.status === 'running') {
        process.stdout.write(
          `job ${jid}: cancel requested; it stops at its next safe point, between hosts and between states (orch jobs wait ${jid})\n`,
        );
      } else process.stdout.write(`job ${jid} had already ended: ${after.status}\n`);
    });

  jobs
    .command('prune')
    .description('delete finished jobs older than the retention (orch.yaml jobs.retention, default 30d)')
    .option('--older-than <duration>', 'age of the jobs to delete, e.g. 30d, 12h')
    .action(async (o: { olderThan?: string }, cmd: Command) => {
      const { jobsSettings, parseDuration } = await import('../../jobs/settings.js');
      const project = projectFor(cmd);
      const ms =
        o.olderThan === undefined
          ? jobsSettings(project).retentionMs
          : parseDuration(o.olderThan, '--older-than');
      const before = new Date(Date.now() - ms);
      const n = await withStore(cmd, (store) => store.prune(before));
      if (globalOptions(cmd).output === 'json') printJson({ pruned: n, before: before.toISOString() });
      else
        process.stdout.write(`pruned ${n} finished job(s) created or ended before ${before.toISOString()}\n`);
    });
}

function hostStatuses(hosts: JobRecord['hosts']): Record<string, string> {
  return Object.fromEntries(Object.values(hosts).map((h) => [h.host, h.status]));
}
