// `orch facts <target>`: gather and show each host's facts (one read-only exec per host). Parses argv and
// prints; gathering lives in src/facts, connections in src/transport.
import { InvalidArgumentError, type Command } from 'commander';
import type { Facts } from '../../facts/types.js';
import type { HostOutcome } from '../../transport/fleet.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';

interface FactsOptions {
  group?: string;
  limit?: string;
  acceptNewHostkeys?: boolean;
  timeout?: number;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--timeout wants a positive number of seconds, got '${v}'`);
  return n;
}

/** Worst exit code over all hosts: unreachable ones (3) first, then other failures. */
export function factsExitCode(outcomes: readonly HostOutcome<Facts>[]): number {
  const codes = outcomes.flatMap((o) => (o.ok ? [] : [exitCodeFor(o.error)]));
  if (codes.includes(EXIT.UNREACHABLE)) return EXIT.UNREACHABLE;
  return codes.length ? Math.max(...codes) : EXIT.OK;
}

/** The JSON shape of `orch facts -o json`. */
export function factsJson(outcomes: readonly HostOutcome<Facts>[]): unknown {
  return {
    hosts: outcomes.map((o) =>
      o.ok
        ? { host: o.host.name, ok: true, facts: o.value }
        : { host: o.host.name, ok: false, error: { code: o.error.code, message: o.error.message } },
    ),
  };
}

/** The human text of `orch facts`: one block per host. */
export async function factsText(outcomes: readonly HostOutcome<Facts>[]): Promise<string> {
  const { formatFacts } = await import('../../facts/format.js');
  const blocks = outcomes.map((o) => {
    const body = o.ok ? formatFacts(o.value) : [`error:    ${o.error.code}: ${o.error.message}`];
    return [o.host.name, ...body.map((l) => `  ${l}`)].join('\n');
  });
  const failed = outcomes.filter((o) => !o.ok).length;
  const summary = `${outcomes.length} host(s), ${outcomes.length - failed} ok, ${failed} failed`;
  return `${blocks.join('\n\n')}\n\n${summary}\n`;
}

/** Register `orch facts`. */
export function register(program: Command): void {
  program
    .command('facts')
    .description(
      'gather and show facts (OS, init, package tool, PostgreSQL versions and clusters) of the targeted hosts',
    )
    .argument('<target>', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated")
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--timeout <s>', 'seconds allowed for the probe on each host', parseSeconds)
    .action(async (target: string, opts: FactsOptions, cmd: Command) => {
      const [{ onEachHost, fleetOptionsFor }, { gatherFacts }] = await Promise.all([
        import('../../transport/fleet.js'),
        import('../../facts/gather.js'),
      ]);
      const project = projectFor(cmd);
      const timeoutMs = opts.timeout === undefined ? undefined : Math.round(opts.timeout * 1000);
      const targeted = await targetHosts(project, target, opts, {
        acceptNewHostKeys: opts.acceptNewHostkeys,
        timeoutMs,
      });
      const hosts = targeted.hosts.filter((h) => !targeted.facts.has(h.name));
      const fleet = fleetOptionsFor(project, { acceptNewHostKeys: opts.acceptNewHostkeys, timeoutMs });
      // Facts gathered to decide the target are not gathered twice.
      const { tryWriteCachedFacts } = await import('../../facts/cache.js');
      const fresh = await onEachHost(hosts, fleet, async (conn) => {
        const facts = await gatherFacts(conn, { timeoutMs });
        tryWriteCachedFacts(project.stateDir, conn.host.name, facts);
        return facts;
      });
      const outcomes = targeted.hosts.map((h): HostOutcome<Facts> => {
        const known = targeted.facts.get(h.name);
        if (known) return { host: h, ok: true, value: known, stats: { connections: 1, execs: 1 }, ms: 0 };
        return fresh.find((o) => o.host.name === h.name)!;
      });
      if (globalOptions(cmd).output === 'json') printJson(factsJson(outcomes));
      else process.stdout.write(await factsText(outcomes));
      const code = factsExitCode(outcomes);
      if (code !== EXIT.OK) process.exitCode = code;
    });
}
