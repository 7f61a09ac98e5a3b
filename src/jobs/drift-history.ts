// The drift trend per host from stored drift jobs: each host's status run by run, when it drifted and when it became
// clean again. Reads job records (newest first, as stores list them); computing the trend is pure.
import type { JobRecord, JobStore } from './store.js';
import type { DriftHostStatus, DriftReport, HostDrift } from '../drift/types.js';

export interface TrendPoint {
  jid: string;
  at: string;
  status: DriftHostStatus;
  /** Drifted states plus PostgreSQL drift findings in that run. */
  items: number;
}

export interface HostTrend {
  host: string;
  /** Status in the newest run that checked the host. */
  current: DriftHostStatus;
  /** When the current status began (the first run of the current streak). */
  since: string;
  runs: number;
  /** The runs where the status changed (the first run included), oldest first. */
  changes: TrendPoint[];
  /** The last time the host was seen clean, if ever in the window. */
  lastClean?: string;
}

/** A stored host result, if it has the drift shape (other verbs or broken rows are skipped). */
export function storedHostDrift(result: unknown): HostDrift | null {
  if (!result || typeof result !== 'object') return null;
  const h = result as Partial<HostDrift>;
  if (typeof h.host !== 'string' || typeof h.status !== 'string' || !Array.isArray(h.drifted)) return null;
  return h as HostDrift;
}

const itemsOf = (h: HostDrift) =>
  h.drifted.length + (h.pg ?? []).filter((f) => f.severity === 'drift').length;

/** Trend per host from drift jobs (any order); optionally only one host. Hosts sorted by name. */
export function computeTrends(jobs: JobRecord[], onlyHost?: string): HostTrend[] {
  const ordered = jobs
    .filter((j) => j.verb === 'drift')
    .map((j) => ({ j, at: j.startedAt ?? j.createdAt }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.j.jid.localeCompare(b.j.jid)));
  const trends = new Map<string, HostTrend>();
  for (const { j, at } of ordered) {
    for (const rec of Object.values(j.hosts)) {
      if (onlyHost && rec.host !== onlyHost) continue;
      const h = storedHostDrift(rec.result);
      if (!h) continue;
      const point: TrendPoint = { jid: j.jid, at, status: h.status, items: itemsOf(h) };
      const t = trends.get(rec.host);
      if (!t) {
        trends.set(rec.host, {
          host: rec.host,
          current: h.status,
          since: at,
          runs: 1,
          changes: [point],
          ...(h.status === 'clean' ? { lastClean: at } : {}),
        });
        continue;
      }
      t.runs++;
      if (h.status === 'clean') t.lastClean = at;
      if (h.status !== t.current) {
        t.current = h.status;
        t.since = at;
        t.changes.push(point);
      }
    }
  }
  return [...trends.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** Read the newest `limit` drift jobs (for one host, when given) from a store. */
export async function loadDriftJobs(
  store: JobStore,
  opts: { host?: string; limit?: number },
): Promise<JobRecord[]> {
  return store.list({ verb: 'drift', host: opts.host, limit: opts.limit ?? 30 });
}

/** Rebuild a past report from its job record (what `orch drift show <jid>` prints). */
export function reportFromJob(job: JobRecord): DriftReport {
  const hosts = Object.values(job.hosts)
    .map((r) => storedHostDrift(r.result))
    .filter((h): h is HostDrift => h !== null)
    .sort((a, b) => a.host.localeCompare(b.host));
  const report: DriftReport = {
    jid: job.jid,
    target: job.target,
    startedAt: job.startedAt ?? job.createdAt,
    finishedAt: job.finishedAt ?? '',
    hosts,
  };
  const aborted = job.summary?.aborted as DriftReport['aborted'] | undefined;
  if (aborted) report.aborted = aborted;
  return report;
}

/** Human lines for trends. */
export function formatTrends(trends: HostTrend[]): string {
  if (trends.length === 0)
    return 'No drift runs recorded yet (run `orch drift <target>` or `orch schedule drift`).';
  const lines: string[] = [];
  for (const t of trends) {
    const clean =
      t.current === 'clean' ? '' : t.lastClean ? `; last clean ${t.lastClean}` : '; not clean in this window';
    lines.push(`${t.host}: ${t.current} since ${t.since} (${t.runs} run${t.runs === 1 ? '' : 's'}${clean})`);
    for (const c of t.changes) {
      lines.push(`  ${c.at}  ${c.status.padEnd(11)}${c.items ? ` ${c.items} item(s)` : ''}  job ${c.jid}`);
    }
  }
  return lines.join('\n');
}
