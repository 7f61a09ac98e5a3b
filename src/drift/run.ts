// A drift run: every assigned state of the targeted hosts in check mode (the engine's 'test' mode: facts, then one
// check exec; nothing is ever applied), plus, on hosts with postgres pillar, one read-only PostgreSQL probe on the
// same connection. It builds the drift report; recording, printing and hooks belong to the caller.
import type { ProjectConfig } from '../config/project.js';
import { errorMessage } from '../errors.js';
import type { CompiledHost } from '../engine/compile.js';
import type { HostRunResult } from '../engine/result.js';
import { runStates, type ProgressEvent } from '../engine/run.js';
import type { HostSpec } from '../inventory/types.js';
import { redactor } from '../secrets/redactor.js';
import type { Connection } from '../transport/types.js';
import { hostDrift } from './build.js';
import { pgFindings, pgLimits, postgresPillar } from './pg-findings.js';
import { pgTargetFor, probePg } from './pg-probe.js';
import type { DriftReport, HostDrift, PgFinding } from './types.js';

export interface DriftRunOptions {
  target: string;
  jid?: string | null;
  acceptNewHostKeys?: boolean;
  /** Extra attempts at opening a connection that failed to open (--retries). */
  retries?: number;
  /** Longest each host's check may take (--timeout). */
  hostTimeoutMs?: number;
  onProgress?: (e: ProgressEvent) => void;
  /** Each host's drift record as soon as it is known (jobs store it at once). */
  onHost?: (h: HostDrift) => void;
  cancelled?: () => boolean;
  stopReason?: () => string | undefined;
  /** Lays the recorded replication topology over each host's pillar (the job kind reads it from the store). */
  adjustPillar?: (host: string, pillar: Record<string, unknown>) => void;
}

/** The PostgreSQL findings of one connected host, or undefined when it has no postgres pillar. */
export async function pgDriftOf(conn: Connection, compiled: CompiledHost): Promise<PgFinding[] | undefined> {
  const pillarPg = postgresPillar(compiled.pillar);
  if (!pillarPg) return undefined;
  try {
    const probe = await probePg(conn, pgTargetFor(pillarPg, compiled.facts));
    return pgFindings(probe, pgLimits(pillarPg, compiled.host.name));
  } catch (err) {
    return [
      {
        check: 'query',
        severity: 'error',
        message: redactor.redact(`PostgreSQL probe failed: ${errorMessage(err)}`),
      },
    ];
  }
}

/** Check the hosts for drift (read-only) and report per host. */
export async function runDrift(
  project: ProjectConfig,
  hosts: HostSpec[],
  opts: DriftRunOptions,
): Promise<DriftReport> {
  const startedAt = new Date().toISOString();
  const pgByHost = new Map<string, PgFinding[]>();
  const toDrift = (r: HostRunResult) => hostDrift(r, pgByHost.get(r.host));
  const run = await runStates(project, hosts, {
    adjustPillar: opts.adjustPillar,
    mode: 'test',
    acceptNewHostKeys: opts.acceptNewHostKeys,
    retries: opts.retries,
    hostTimeoutMs: opts.hostTimeoutMs,
    onProgress: opts.onProgress,
    cancelled: opts.cancelled,
    stopReason: opts.stopReason,
    afterCheck: async (conn, compiled) => {
      const found = await pgDriftOf(conn, compiled);
      if (found) pgByHost.set(compiled.host.name, found);
    },
    onHostResult: opts.onHost ? (r) => opts.onHost!(toDrift(r)) : undefined,
  });
  const report: DriftReport = {
    jid: opts.jid ?? null,
    target: opts.target,
    startedAt,
    finishedAt: new Date().toISOString(),
    hosts: run.hosts.map(toDrift),
  };
  if (run.aborted) report.aborted = run.aborted;
  return report;
}
