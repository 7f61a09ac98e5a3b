// `--async`: queue a job with everything a worker needs to run it (never secrets) and start a detached
// `orch worker --drain` that survives the terminal closing, unless orch.yaml says `jobs: {spawn_worker: false}`.
// Kept light on purpose (no engine, no ssh imports): `orch apply --async` must return at once.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage } from '../errors.js';
import { redactor } from '../secrets/redactor.js';
import { configuredJobStore, openJobStore, parseJobStoreSpec } from './open.js';
import type { RecordSpec } from './record.js';
import { jobsSettings } from './settings.js';
import { isShardStore, type JobRecord } from './store.js';
import { currentUser } from './who.js';

/** Record a queued job; JOB_STORE_ERROR when the store cannot take it. */
export async function enqueueJob(project: ProjectConfig, spec: RecordSpec): Promise<JobRecord> {
  const store = await openJobStore(project);
  try {
    return await store.create({
      verb: spec.verb,
      target: spec.target,
      args: redactor.redactDeep(spec.args),
      user: currentUser(),
      status: 'queued',
    });
  } catch (err) {
    if (err instanceof OrchError) throw err;
    throw new OrchError('JOB_STORE_ERROR', `could not queue the job: ${errorMessage(err)}`, { cause: err });
  } finally {
    await store.close().catch(() => undefined);
  }
}

export interface SpawnOptions {
  /** The orch entry script (default: the one this process runs). */
  mainScript?: string;
  /** Told when the worker could not be started (default: a warning on stderr). */
  onError?: (err: Error) => void;
}

/** Start `orch --root <root> worker --drain` detached, unless the project turned that off; returns its pid. */
export function startDrainWorker(project: ProjectConfig, opts: SpawnOptions = {}): number | undefined {
  if (!jobsSettings(project).spawnWorker) return undefined;
  const script = opts.mainScript ?? path.resolve(process.argv[1] ?? '');
  // execArgv carries loader flags (e.g. --import tsx when orch runs from source).
  const child = spawn(
    process.execPath,
    [...process.execArgv, script, '--root', project.root, 'worker', '--drain'],
    {
      detached: true,
      // Same cwd as ours: loader flags in execArgv (--import tsx) resolve relative to it.
      stdio: 'ignore',
    },
  );
  child.on('error', (err) =>
    (
      opts.onError ??
      ((e: Error) => process.stderr.write(`orch: warning: could not start a worker: ${e.message}\n`))
    )(err),
  );
  child.unref();
  return child.pid;
}

/** `--async` for a verb: queue the job, print only its id on stdout (`{"jid": ...}` with -o json) and a human
 * line on stderr, start a worker; returns the exit code (0). */
export async function submitAsync(project: ProjectConfig, spec: RecordSpec, json: boolean): Promise<number> {
  const job = await enqueueJob(project, spec);
  process.stdout.write(json ? `${JSON.stringify({ jid: job.jid })}\n` : `${job.jid}\n`);
  const pid = startDrainWorker(project);
  const how = pid === undefined ? 'waiting for an orch worker' : 'a background worker runs it';
  process.stderr.write(`job ${job.jid} queued (${how}); orch jobs lookup ${job.jid}\n`);
  return 0;
}

/** `--async --shard-size N`: queue one job whose hosts (as the target resolved now) are cut into shards of N for
 * any number of workers; BAD_INPUT on a store that cannot hold shards (the embedded SQLite one). Prints like
 * submitAsync; returns 0. */
export async function submitShardedAsync(
  project: ProjectConfig,
  spec: RecordSpec,
  shardSize: number,
  json: boolean,
): Promise<number> {
  const notHere = new OrchError(
    'BAD_INPUT',
    '--shard-size needs the PostgreSQL job store (orch.yaml jobs: {store: postgres://...} or ORCH_JOB_STORE): ' +
      "the embedded SQLite store is one controller's, so its jobs are not split over workers",
  );
  if (parseJobStoreSpec(configuredJobStore(project), project.stateDir).kind !== 'postgres') throw notHere;
  const hosts = Array.isArray(spec.args.hosts)
    ? spec.args.hosts.filter((h): h is string => typeof h === 'string')
    : [];
  // Loaded here only: the plain --async path stays as light as it was.
  const { splitShards } = await import('./shards.js');
  const shards = splitShards(hosts, shardSize);
  const store = await openJobStore(project);
  let job: JobRecord;
  try {
    if (!isShardStore(store)) throw notHere;
    job = await store.createSharded(
      {
        verb: spec.verb,
        target: spec.target,
        args: redactor.redactDeep(spec.args),
        user: currentUser(),
        status: 'queued',
      },
      shards,
    );
  } catch (err) {
    if (err instanceof OrchError) throw err;
    throw new OrchError('JOB_STORE_ERROR', `could not queue the job: ${errorMessage(err)}`, { cause: err });
  } finally {
    await store.close().catch(() => undefined);
  }
  process.stdout.write(
    json ? `${JSON.stringify({ jid: job.jid, shards: shards.length })}\n` : `${job.jid}\n`,
  );
  const pid = startDrainWorker(project);
  const how = pid === undefined ? 'waiting for orch workers' : 'a background worker takes shards too';
  process.stderr.write(
    `job ${job.jid} queued: ${hosts.length} host(s) in ${shards.length} shard(s) of up to ${shardSize} (${how}); orch jobs lookup ${job.jid}\n`,
  );
  return 0;
}
