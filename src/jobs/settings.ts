// The `jobs:` section of orch.yaml (lease, retention, whether --async starts a worker) and the duration syntax
// used by job flags (`30d`, `2h`, `15m`, `90s`, `500ms`). Reads settings only; never opens a store.
import { OrchError } from '../errors.js';
import type { ProjectConfig } from '../config/project.js';
import { DEFAULT_LEASE_MS } from './store.js';

export interface JobsSettings {
  /** Lease of a running job and its host locks; runners heartbeat every leaseMs / 3. */
  leaseMs: number;
  /** How old a finished job must be before `orch jobs prune` removes it. */
  retentionMs: number;
  /** Whether `--async` starts a detached `orch worker --drain` (false when worker services run elsewhere). */
  spawnWorker: boolean;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds of a duration like `30d`, `2h`, `15m`, `90s`, `500ms`; a bare number means seconds. */
export function parseDuration(text: string | number, what: string): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text > 0) return text * 1000;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
    if (m) {
      const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's').toLowerCase()]!;
      if (ms > 0) return Math.round(ms);
    }
  }
  throw new OrchError(
    'BAD_INPUT',
    `${what}: expected a duration like 30d, 2h, 15m, 90s or 500ms, got ${JSON.stringify(text)}`,
  );
}

/** The instant a `--since` value names: a duration back from now (`2h`) or an ISO-8601 date/time. */
export function parseSince(text: string, now: Date = new Date()): Date {
  if (/^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)?\s*$/i.test(text)) {
    return new Date(now.getTime() - parseDuration(text, '--since'));
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new OrchError(
    'BAD_INPUT',
    `--since: expected a duration back from now (2h, 7d) or an ISO date, got ${JSON.stringify(text)}`,
  );
}

/** The jobs settings of a project, with defaults (lease 60s, retention 30d, spawn_worker true). */
export function jobsSettings(project: ProjectConfig): JobsSettings {
  const raw = project.settings.jobs;
  const jobs = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const spawn = jobs.spawn_worker;
  if (spawn !== undefined && typeof spawn !== 'boolean') {
    throw new OrchError('BAD_INPUT', 'orch.yaml: jobs.spawn_worker must be true or false');
  }
  return {
    leaseMs:
      jobs.lease === undefined
        ? DEFAULT_LEASE_MS
        : parseDuration(asDuration(jobs.lease), 'orch.yaml jobs.lease'),
    retentionMs:
      jobs.retention === undefined
        ? 30 * UNIT_MS.d!
        : parseDuration(asDuration(jobs.retention), 'orch.yaml jobs.retention'),
    spawnWorker: spawn !== false,
  };
}

function asDuration(v: unknown): string | number {
  return typeof v === 'number' || typeof v === 'string' ? v : String(v);
}
