// Picks and opens the job store a project uses: ORCH_JOB_STORE, else settings.jobs.store in orch.yaml, else the
// embedded SQLite file in the state dir. Failing to open or write it is JOB_STORE_ERROR, so callers can refuse to
// start work that could not be recorded. It does not create PostgreSQL databases or roles.
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage } from '../errors.js';
import { describePgUrl } from './common.js';
import { replayJournals } from './journal.js';
import { openSqliteStore } from './sqlite-store.js';
import type { JobStore } from './store.js';

export type JobStoreSpec = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** The store spec string configured for a project (environment first), or undefined for the default. */
export function configuredJobStore(
  project: ProjectConfig,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = env.ORCH_JOB_STORE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  const jobs = project.settings.jobs;
  if (jobs && typeof jobs === 'object' && !Array.isArray(jobs)) {
    const store = (jobs as Record<string, unknown>).store;
    if (store === undefined || store === null) return undefined;
    if (typeof store !== 'string' || store.trim() === '') {
      throw new OrchError(
        'JOB_STORE_ERROR',
        'orch.yaml: jobs.store must be "postgres://..." or "sqlite:<path>"',
      );
    }
    return store.trim();
  }
  return undefined;
}

/** Parse a store spec: postgres:// or postgresql:// URL, sqlite:<path> (relative to stateDir), or none. */
export function parseJobStoreSpec(spec: string | undefined, stateDir: string): JobStoreSpec {
  if (spec === undefined) return { kind: 'sqlite', file: path.join(stateDir, 'jobs.sqlite') };
  if (/^postgres(ql)?:\/\//i.test(spec)) return { kind: 'postgres', url: spec };
  if (spec.startsWith('sqlite:')) {
    const file = spec.slice('sqlite:'.length);
    if (file === '') throw new OrchError('JOB_STORE_ERROR', 'job store "sqlite:" needs a file path');
    return { kind: 'sqlite', file: path.resolve(stateDir, file) };
  }
  throw new OrchError(
    'JOB_STORE_ERROR',
    `unknown job store ${spec.includes('@') ? '(value hidden)' : JSON.stringify(spec)}: ` +
      'use "postgres://user@host/db" or "sqlite:<path>"',
  );
}

/** Open a store from a spec string (what ORCH_JOB_STORE holds); stateDir anchors relative SQLite paths. */
export async function openJobStoreAt(spec: string | undefined, stateDir: string): Promise<JobStore> {
  const store = await openOnly(spec, stateDir);
  // What runs kept locally while this store failed goes in now (see journal.ts).
  const replay = await replayJournals(store, stateDir);
  if (replay.written.length) {
    process.stderr.write(
      `orch: wrote ${replay.written.length} job(s) kept in the local journal to the job store: ${replay.written.join(', ')}\n`,
    );
  }
  return store;
}

async function openOnly(spec: string | undefined, stateDir: string): Promise<JobStore> {
  const parsed = parseJobStoreSpec(spec, stateDir);
  const where = parsed.kind === 'sqlite' ? parsed.file : describePgUrl(parsed.url);
  try {
    // The PostgreSQL driver costs ~100 ms to load: only when the store is PostgreSQL (`--async` must return at
    // once). Tests load through import() too, so this dynamic import shares their copy of the redaction registry.
    if (parsed.kind === 'sqlite') {
      const own = path.resolve(path.dirname(parsed.file)) === path.resolve(stateDir);
      return await openSqliteStore(parsed.file, { privateDir: own });
    }
    const { openPgStore } = await import('./pg-store.js');
    return await openPgStore(parsed.url);
  } catch (err) {
    if (err instanceof OrchError && err.code === 'JOB_STORE_ERROR') throw err;
    throw new OrchError('JOB_STORE_ERROR', `cannot open job store ${where}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** Open the job store the project is configured for; JOB_STORE_ERROR when it cannot be opened or written. */
export async function openJobStore(project: ProjectConfig): Promise<JobStore> {
  return openJobStoreAt(configuredJobStore(project), project.stateDir);
}
