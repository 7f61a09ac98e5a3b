// Rolling runs (`orch apply --batch N|N% --fail-percent P`): every host still compiles before any host is checked
// (the barrier), then hosts are let through in batches, the hosts of a batch in parallel and the batches in order.
// When the share of failed hosts of a finished batch is above P, the later batches are not run.
//
// Ordering: the replication formula has no ordering of its own; its standbys wait a bounded time for a primary
// converged in the same run (pg_make_replica's read_primary). So a standby may share its primary's batch or come
// later, never earlier: hosts are ordered by their depth in the primary -> standby chains their compiled
// `postgres.replica` states draw (a cascade's standby after its upstream), the inventory order kept otherwise.
import type { HostSpec } from '../inventory/types.js';
import type { CompiledHost } from './compile.js';
import type { HostRunResult } from './result.js';

/** A batch size: a number of hosts, or a percentage of the targeted hosts (at least one host). */
export type BatchSize = { hosts: number } | { percent: number };

export interface RolloutOptions {
  size: BatchSize;
  /** Stop when more than this percentage of a batch's hosts failed (0: the first failure stops). */
  failPercent?: number;
}

/** What a report says about a rolling run. */
export interface RolloutReport {
  batches: string[][];
  /** Batches run (started); the later ones were not run. */
  ran: number;
  /** Why the later batches were not run. */
  stopped?: string;
}

/** The number of hosts per batch for `total` hosts. */
export function batchHosts(size: BatchSize, total: number): number {
  const n = 'hosts' in size ? size.hosts : Math.floor((total * size.percent) / 100);
  return Math.max(1, Math.min(n, Math.max(total, 1)));
}

/** The primary a compiled host's `postgres.replica` states stream from, as written (a name or an address). */
function upstreamsOf(c: CompiledHost): string[] {
  return c.states
    .filter((s) => s.decl.fn === 'postgres.replica' && typeof s.args.primary === 'string')
    .map((s) => s.args.primary as string);
}

/**
 * Host names in rollout order: by depth in the primary -> standby chains among the targeted hosts (a primary not
 * targeted counts as already converged), then in the given order. A host not compiled (unreachable) has depth 0.
 */
export function rolloutOrder(
  hosts: readonly HostSpec[],
  compiled: ReadonlyMap<string, CompiledHost>,
): string[] {
  const byRef = new Map<string, string>();
  for (const h of hosts) {
    byRef.set(h.name, h.name);
    if (!byRef.has(h.address)) byRef.set(h.address, h.name);
  }
  const ups = new Map<string, string[]>();
  for (const h of hosts) {
    const c = compiled.get(h.name);
    const names = c
      ? upstreamsOf(c)
          .map((r) => byRef.get(r))
          .filter((n): n is string => !!n)
      : [];
    ups.set(
      h.name,
      names.filter((n) => n !== h.name),
    );
  }
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle is the formula's error to report, not the ordering's
    seen.add(name);
    const d = Math.max(-1, ...(ups.get(name) ?? []).map((u) => depthOf(u, seen))) + 1;
    depth.set(name, d);
    return d;
  };
  const index = new Map(hosts.map((h, i) => [h.name, i]));
  return hosts
    .map((h) => h.name)
    .sort((a, b) => depthOf(a, new Set()) - depthOf(b, new Set()) || index.get(a)! - index.get(b)!);
}

/** The gate of a rolling run: hosts ask for their turn after the barrier and report when they are done. */
export class Rollout {
  private readonly compiledHosts = new Map<string, CompiledHost>();
  private readonly results = new Map<string, HostRunResult>();
  private batches: string[][] | undefined;
  private current = 0;
  private stopped: string | undefined;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly hosts: readonly HostSpec[],
    private readonly opts: RolloutOptions,
  ) {}

  /** A host compiled (called before the barrier). */
  compiled(c: CompiledHost): void {
    this.compiledHosts.set(c.host.name, c);
  }

  /** Resolves when the host's batch may run: undefined, or the reason it will not run. Call after the barrier. */
  async turn(name: string): Promise<string | undefined> {
    const batches = this.plan();
    const mine = batches.findIndex((b) => b.includes(name));
    while (!this.stopped && this.current < mine) await new Promise<void>((r) => this.waiters.push(r));
    return this.current >= mine ? undefined : this.stopped;
  }

  /** A host's result is known (whenever it is: unreachable hosts finish before the barrier). */
  done(result: HostRunResult): void {
    this.results.set(result.host, result);
    if (this.batches) this.advance();
  }

  /** The batch (1-based) a host is in, once planned. */
  batchOf(name: string): number | undefined {
    const i = this.batches?.findIndex((b) => b.includes(name)) ?? -1;
    return i >= 0 ? i + 1 : undefined;
  }

  /** The hosts of the host's batch (they run together), once planned. */
  batchWith(name: string): readonly string[] | undefined {
    return this.batches?.find((b) => b.includes(name));
  }

  report(): RolloutReport | undefined {
    if (!this.batches) return undefined;
    const r: RolloutReport = { batches: this.batches, ran: Math.min(this.current + 1, this.batches.length) };
    if (this.stopped) r.stopped = this.stopped;
    return r;
  }

  private plan(): string[][] {
    if (this.batches) return this.batches;
    const order = rolloutOrder(this.hosts, this.compiledHosts);
    const n = batchHosts(this.opts.size, order.length);
    const batches: string[][] = [];
    for (let i = 0; i < order.length; i += n) batches.push(order.slice(i, i + n));
    this.batches = batches;
    this.advance();
    return batches;
  }

  /** Move past every finished batch; stop when one failed beyond the allowed share. */
  private advance(): void {
    const batches = this.batches!;
    while (!this.stopped && this.current < batches.length - 1) {
      const batch = batches[this.current]!;
      const done = batch.map((h) => this.results.get(h));
      if (done.some((r) => r === undefined)) return;
      const failed = done.filter((r) => !r!.ok).length;
      const allowed = this.opts.failPercent;
      if (allowed !== undefined && failed * 100 > allowed * batch.length) {
        const pct = Math.round((failed * 100) / batch.length);
        this.stopped = `batch ${this.current + 1} of ${batches.length} had ${failed} of ${batch.length} host(s) failed (${pct}%, more than --fail-percent ${allowed})`;
      } else this.current++;
    }
    for (const w of this.waiters.splice(0)) w();
  }
}
