// The hosts a verb works on, from its target argument and its -g/--limit options. Targets that match on facts
// (`os=FreeBSD`) are resolved in two steps: first on the inventory alone (names, globs, groups, vars), which
// decides most hosts; then one facts exec on each host still undecided, in parallel (-j). Nothing is gathered
// when no term needs facts. The facts are returned so that a verb can show or reuse them.
import type { Command } from 'commander';
import type { ProjectConfig } from '../config/project.js';
import { OrchError } from '../errors.js';
import type { Facts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';

export interface TargetFlags {
  group?: string;
  limit?: string;
}

export interface TargetHosts {
  hosts: HostSpec[];
  /** Facts gathered to decide the target (only the undecided hosts; empty when no term needs facts). */
  facts: Map<string, Facts>;
}

export const LIMIT_HELP =
  "further restrict the target to hosts this target also names (same grammar, e.g. 'db*&!db3*')";

/** Add `--limit <target>` to a verb that takes a target. */
export function limitOption(cmd: Command): Command {
  return cmd.option('-l, --limit <target>', LIMIT_HELP);
}

/** Resolve a verb's target to hosts (inventory order), gathering facts only for hosts a fact term leaves open. */
export async function targetHosts(
  project: ProjectConfig,
  target: string,
  flags: TargetFlags,
  opts: {
    acceptNewHostKeys?: boolean;
    timeoutMs?: number;
    /** Why this verb cannot gather facts to decide the target (--async, hostkeys): fact terms are refused. */
    noFacts?: string;
  } = {},
): Promise<TargetHosts> {
  const [{ loadInventory }, { resolveTargets, factCandidates }] = await Promise.all([
    import('../inventory/load.js'),
    import('../inventory/target.js'),
  ]);
  const inv = loadInventory(project);
  const ropts = { group: flags.group, limit: flags.limit };
  const candidates = factCandidates(inv, target, ropts);
  const facts = new Map<string, Facts>();
  if (candidates.length && opts.noFacts !== undefined) {
    throw new OrchError('BAD_INPUT', `target '${target}' matches on facts, which ${opts.noFacts}`);
  }
  if (candidates.length) {
    const [{ onEachHost, fleetOptionsFor }, { gatherFacts }] = await Promise.all([
      import('../transport/fleet.js'),
      import('../facts/gather.js'),
    ]);
    const fleet = fleetOptionsFor(project, {
      acceptNewHostKeys: opts.acceptNewHostKeys,
      timeoutMs: opts.timeoutMs,
    });
    const outcomes = await onEachHost(candidates, fleet, (conn) =>
      gatherFacts(conn, { timeoutMs: opts.timeoutMs }),
    );
    // A host whose facts are unknown can be neither in nor out: refuse rather than guess (exit by its code).
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) {
      throw new OrchError(
        failed.error.code,
        `target '${target}' matches on facts, and the facts of ${failed.host.name} could not be gathered: ${failed.error.message}`,
        { cause: failed.error },
      );
    }
    const { tryWriteCachedFacts } = await import('../facts/cache.js');
    for (const o of outcomes)
      if (o.ok) {
        facts.set(o.host.name, o.value);
        tryWriteCachedFacts(project.stateDir, o.host.name, o.value);
      }
  }
  const hosts = resolveTargets(inv, target, { ...ropts, facts: (name) => facts.get(name) });
  return { hosts, facts };
}
