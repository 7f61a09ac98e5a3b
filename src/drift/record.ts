// Records a drift run as a job (verb 'drift') directly through the JobStore: create it running, keep its lease
// alive, store each host's drift record as it arrives, always finish it. Work that cannot be recorded is refused
// before any host is contacted. It does not decide what drift is or print anything.
import os from 'node:os';
import type { ProjectConfig } from '../config/project.js';
import { EXIT, exitCodeFor } from '../cli/exit-codes.js';
import { OrchError, errorMessage } from '../errors.js';
import { openJobStore } from '../jobs/open.js';
import { DEFAULT_LEASE_MS, type JobStatus, type JobStore } from '../jobs/store.js';
import { redactor } from '../secrets/redactor.js';

export interface DriftJobContext {
  jid: string;
  /** Store one host's result now (writes are queued in order; the job's end waits for them). */
  hostResult(host: string, status: string, result: unknown): void;
  /** True once someone asked the job to stop. */
  cancelled(): boolean;
}

export interface DriftJobOutcome {
  exitCode: number;
  status: JobStatus;
  summary?: Record<string, unknown>;
}

const warn = (m: string): void => {
  process.stderr.write(`orch: warning: ${m}\n`);
};

/** Run fn as a recorded drift job; JOB_STORE_ERROR (nothing ran) when the job cannot be created. */
export async function recordDriftRun<R extends DriftJobOutcome>(
  project: ProjectConfig,
  spec: { target: string; args: Record<string, unknown> },
  fn: (ctx: DriftJobContext) => Promise<R>,
  leaseMs = DEFAULT_LEASE_MS,
): Promise<R> {
  const refuse = (err: unknown) =>
    new OrchError(
      'JOB_STORE_ERROR',
      `refusing to start drift: it could not be recorded in the job store: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  let store: JobStore;
  try {
    store = await openJobStore(project);
  } catch (err) {
    throw refuse(err);
  }
  const worker = `${os.hostname()}:${process.pid}`;
  try {
    let jid: string;
    try {
      const job = await store.create({
        verb: 'drift',
        target: spec.target,
        args: redactor.redactDeep(spec.args),
        user: os.userInfo().username,
        status: 'running',
        worker,
        leaseMs,
      });
      jid = job.jid;
    } catch (err) {
      throw refuse(err);
    }
    let writes: Promise<void> = Promise.resolve();
    let cancel = false;
    const beat = setInterval(
      () => {
        store
          .heartbeat(jid, worker, leaseMs)
          .catch((e: unknown) => warn(`job ${jid}: heartbeat failed: ${errorMessage(e)}`));
        store.isCancelRequested(jid).then(
          (yes) => (cancel ||= yes),
          () => undefined,
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    beat.unref(); // never keeps a finished process alive
    const ctx: DriftJobContext = {
      jid,
      hostResult: (host, status, result) => {
        const safe = redactor.redactDeep(result);
        writes = writes.then(() =>
          store
            .putHostResult(jid, host, status, safe)
            .catch((e: unknown) => warn(`job ${jid}: could not store ${host}: ${errorMessage(e)}`)),
        );
      },
      cancelled: () => cancel,
    };
    let status: JobStatus = 'failed';
    let exitCode: number = EXIT.ERROR;
    let summary: Record<string, unknown> | undefined;
    try {
      const out = await fn(ctx);
      ({ status, exitCode, summary } = out);
      return out;
    } catch (err) {
      exitCode = exitCodeFor(err);
      summary = { error: redactor.redact(errorMessage(err)) };
      throw err;
    } finally {
      clearInterval(beat);
      await writes;
      await store
        .finish(
          jid,
          cancel ? 'cancelled' : status,
          exitCode,
          summary === undefined ? undefined : redactor.redactDeep(summary),
        )
        .catch((e: unknown) => warn(`job ${jid}: could not record its end: ${errorMessage(e)}`));
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}
