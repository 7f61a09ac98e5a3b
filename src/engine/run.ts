// A state run over many hosts: per host one connection; facts (1 exec), compile on the controller, check (1 exec),
// apply (1 exec, only when something needs it). Every host is compiled before any host is changed: one bad template
// or state file aborts the run with nothing written anywhere. Hosts otherwise run independently, in parallel.
import type { ProjectConfig } from '../config/project.js';
import { OrchError, errorMessage } from '../errors.js';
import { isInputCode } from '../errors/codes.js';
import { debugLog } from '../errors/debug.js';
import { errorsJson, type ErrorJson } from '../errors/describe.js';
import { tryWriteCachedFacts } from '../facts/cache.js';
import { gatherFacts } from '../facts/gather.js';
import type { HostSpec } from '../inventory/types.js';
import { compilePillar } from '../pillar/load.js';
import { createRenderEnv } from '../render/env.js';
import { redactor } from '../secrets/redactor.js';
import { defaultResolver } from '../secrets/resolver.js';
import { fleetOptionsFor, onEachHost, type HostClock, type HostOutcome } from '../transport/fleet.js';
import { compileHost, type CompiledHost } from './compile.js';
import { precheckHost } from './precheck.js';
import { applyPhase, checkPhase, testResults } from './phases.js';
import type { HostRunResult, StateResult } from './result.js';
import type { Connection, Connector } from '../transport/types.js';
import { Barrier } from './barrier.js';
import { Rollout, type RolloutOptions, type RolloutReport } from './rolling.js';

export type RunMode = 'apply' | 'test';

export type ProgressEvent =
  | { host: string; phase: 'connecting' | 'facts' | 'compiling' | 'waiting' | 'checking' | 'applying' }
  | { host: string; phase: 'output'; line: string }
  | { host: string; phase: 'done'; result: HostRunResult };

export interface RunOptions {
  mode: RunMode;
  /** State files to run instead of the top file's. */
  only?: string[];
  acceptNewHostKeys?: boolean;
  /** Extra attempts at opening a connection that failed to open (--retries). */
  retries?: number;
  /** Hosts whose replica data directory may be replaced in this run (`apply --force-rebuild`). */
  forceRebuild?: string[];
  /** Longest each host's work may take (connect, facts, check, apply); a host past it fails with TIMEOUT. */
  hostTimeoutMs?: number;
  onProgress?: (e: ProgressEvent) => void;
  /** Called with each host's result as soon as it is known (jobs store it at once). */
  onHostResult?: (r: HostRunResult) => void | Promise<void>;
  /** Polled before each host is started and before its facts, check and apply; when true, hosts not yet
   * changing are left alone (a batch already running on a host is never cut). */
  cancelled?: () => boolean;
  /** Why the run stops, for the "not run" message of the hosts left alone. */
  stopReason?: () => string | undefined;
  /** Polled while a host's apply batch runs: when true the batch stops at its next safe point, before its next
   * state (a cancel). `cancelled` alone lets a running batch finish (a signal). */
  stopBatch?: () => boolean;
  /** Called on each host's connection right after its check phase; must only read (drift's extra probes). */
  afterCheck?: (conn: Connection, compiled: CompiledHost) => Promise<void>;
  /** How hosts are reached; default SSH with the project's known_hosts (tests give the local shell). */
  connector?: Connector;
  /** A rolling run: after the barrier, hosts go through in batches (rolling.ts). */
  rollout?: RolloutOptions;
  /** Called on each host's compiled pillar before its states compile (the recorded replication topology). */
  adjustPillar?: (host: string, pillar: Record<string, unknown>) => void;
}

export interface RunReport {
  mode: RunMode;
  /** Set when compiling some host failed: the run stopped before any host was changed. */
  aborted?: { host: string; code: string; message: string; errors?: ErrorJson[] };
  hosts: HostRunResult[];
  /** Set for a rolling run: its batches, how many ran, why it stopped. */
  rollout?: RolloutReport;
}

/** Run the states of `hosts` in apply or test mode. */
export async function runStates(
  project: ProjectConfig,
  hosts: HostSpec[],
  opts: RunOptions,
): Promise<RunReport> {
  const env = createRenderEnv(project.root);
  const resolver = defaultResolver(project);
  const barrier = new Barrier(hosts.map((h) => h.name));
  const timings = new PhaseTimings();
  const progress = (e: ProgressEvent) => {
    timings.event(e);
    opts.onProgress?.(e);
  };
  let aborted: RunReport['aborted'];
  const rollout = opts.rollout ? new Rollout(hosts, opts.rollout) : undefined;
  const runHosts = hosts.map((h) => h.name);
  const withBatch = (r: HostRunResult): HostRunResult => {
    const batch = rollout?.batchOf(r.host);
    const phases = timings.of(r.host);
    return { ...r, ...(batch === undefined ? {} : { batch }), ...(phases.length ? { phases } : {}) };
  };

  const reason = (): string => opts.stopReason?.() ?? 'cancelled';
  const stopping = (): string | undefined => (opts.cancelled?.() ? reason() : undefined);
  const notRun = (when: string): OrchError => new OrchError('CANCELLED', `not run: ${reason()} ${when}`);

  const work = async (host: HostSpec, conn: Connection, clock: HostClock) => {
    if (opts.cancelled?.()) {
      barrier.leave(host.name);
      throw notRun('before this host was checked');
    }
    progress({ host: host.name, phase: 'facts' });
    let compiled: CompiledHost;
    try {
      const facts = await gatherFacts(conn);
      // The last facts of each host, for `orch render --offline` and `orch pillar show` without a connection.
      tryWriteCachedFacts(project.stateDir, host.name, facts);
      progress({ host: host.name, phase: 'compiling' });
      const pillar = await compilePillar(project, host, { resolver, facts });
      opts.adjustPillar?.(host.name, pillar);
      compiled = compileHost({
        root: project.root,
        env,
        host,
        facts,
        pillar,
        only: opts.only,
        saltenv: project.saltenv,
        forceRebuild: opts.forceRebuild?.includes(host.name),
        // Asked when apply bodies are made: a rolling run's batches are planned after every host compiled.
        runHosts: () => rollout?.batchWith(host.name) ?? runHosts,
      });
    } catch (err) {
      debugLog(`host ${host.name}`, err);
      if (err instanceof OrchError && isInputCode(err.code)) {
        aborted ??= {
          host: host.name,
          code: err.code,
          message: redactor.redact(err.message),
          errors: redactor.redactDeep(errorsJson(err)),
        };
        barrier.fail(host.name);
      } else barrier.leave(host.name);
      throw err;
    }
    rollout?.compiled(compiled);
    progress({ host: host.name, phase: 'waiting' });
    // Waiting for the other hosts to compile is not this host's time (--timeout).
    if (!(await clock.pause(barrier.arrive(host.name)))) {
      throw new OrchError(
        'STATE_ERROR',
        `not run: another host's states failed to compile (${aborted?.host ?? '?'})`,
      );
    }
    if (rollout) {
      // A later batch waits for the earlier ones, off the --timeout clock like the barrier.
      const stop = await clock.pause(rollout.turn(host.name));
      if (stop) throw new OrchError('CANCELLED', `not run: ${stop}`);
    }
    if (opts.cancelled?.()) throw notRun('before this host was checked');
    progress({ host: host.name, phase: 'checking' });
    const checks = await checkPhase(conn, compiled);
    if (opts.afterCheck) await opts.afterCheck(conn, compiled);
    if (opts.mode === 'test') return testResults(compiled, checks);
    if (!checks.some((c) => c.status !== 'clean')) return testResults(compiled, checks);
    if (opts.cancelled?.()) throw notRun('before this host was changed');
    progress({ host: host.name, phase: 'applying' });
    return applyPhase(
      conn,
      compiled,
      checks,
      (line) => progress({ host: host.name, phase: 'output', line }),
      opts.stopBatch ? { requested: opts.stopBatch, reason } : undefined,
    );
  };

  const early = precheckRun(project, env, hosts, opts);
  if (early) return early;
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const fleet = fleetOptionsFor(project, {
    acceptNewHostKeys: opts.acceptNewHostKeys,
    hostTimeoutMs: opts.hostTimeoutMs,
    retries: opts.retries,
  });
  const outcomes = await onEachHost<StateResult[]>(
    hosts,
    opts.connector ? { ...fleet, connector: opts.connector } : fleet,
    (conn, clock) => work(byName.get(conn.host.name)!, conn, clock),
    {
      onStart: (h) => progress({ host: h.name, phase: 'connecting' }),
      stopReason: stopping,
      onDone: (o) => {
        // A host that failed before compiling (unreachable) must not hold the others at the barrier.
        barrier.leave(o.host.name);
        timings.end(o.host.name);
        const result = withBatch(toHostResult(o));
        rollout?.done(result);
        progress({ host: o.host.name, phase: 'done', result });
        void opts.onHostResult?.(result);
      },
    },
  );
  const report: RunReport = { mode: opts.mode, hosts: outcomes.map((o) => withBatch(toHostResult(o))) };
  if (aborted) report.aborted = aborted;
  const rolled = rollout?.report();
  if (rolled) report.rollout = rolled;
  return report;
}

/** How long each host spent in each phase (connecting, facts, compiling, waiting, checking, applying), for -vv. */
class PhaseTimings {
  private readonly open = new Map<string, { phase: string; since: number }>();
  private readonly done = new Map<string, { phase: string; ms: number }[]>();

  event(e: ProgressEvent): void {
    if (e.phase === 'output' || e.phase === 'done') return;
    this.end(e.host);
    this.open.set(e.host, { phase: e.phase, since: performance.now() });
  }

  end(host: string): void {
    const o = this.open.get(host);
    if (!o) return;
    this.open.delete(host);
    const list = this.done.get(host) ?? [];
    list.push({ phase: o.phase, ms: Math.round(performance.now() - o.since) });
    this.done.set(host, list);
  }

  of(host: string): { phase: string; ms: number }[] {
    return this.done.get(host) ?? [];
  }
}

/**
 * The report of a run stopped before connecting: some host's states have an error that needs no facts (precheck.ts).
 * It reads as a compile failure does, the host with the error failing and the others not run; no host is contacted.
 */
function precheckRun(
  project: ProjectConfig,
  env: ReturnType<typeof createRenderEnv>,
  hosts: HostSpec[],
  opts: RunOptions,
): RunReport | undefined {
  const clean = new Set<string>();
  for (const host of hosts) {
    const err = precheckHost(project.root, env, host, opts.only, clean);
    if (!err) continue;
    debugLog(`host ${host.name}`, err);
    const stats = { connections: 0, execs: 0 };
    const failed = (h: HostSpec, e: OrchError): HostRunResult => ({
      host: h.name,
      ok: false,
      error: { code: e.code, message: redactor.redact(errorMessage(e)) },
      states: [],
      stats,
      ms: 0,
    });
    const notRun = new OrchError(
      'STATE_ERROR',
      `not run: another host's states failed to compile (${host.name})`,
    );
    const results = hosts.map((h) => failed(h, h === host ? err : notRun));
    for (const result of results) {
      opts.onProgress?.({ host: result.host, phase: 'done', result });
      void opts.onHostResult?.(result);
    }
    return {
      mode: opts.mode,
      aborted: {
        host: host.name,
        code: err.code,
        message: redactor.redact(err.message),
        errors: redactor.redactDeep(errorsJson(err)),
      },
      hosts: results,
    };
  }
  return undefined;
}

function toHostResult(o: HostOutcome<StateResult[]>): HostRunResult {
  const stats = {
    connections: o.stats.connections,
    execs: o.stats.execs,
    ...(o.stats.sftp ? { sftp: o.stats.sftp } : {}),
  };
  if (!o.ok) {
    return {
      host: o.host.name,
      ok: false,
      error: { code: o.error.code, message: redactor.redact(errorMessage(o.error)) },
      states: [],
      stats,
      ms: o.ms,
    };
  }
  const ok = o.value.every((s) => s.status !== 'failed' && s.status !== 'not_run');
  return { host: o.host.name, ok, states: o.value, stats, ms: o.ms };
}
