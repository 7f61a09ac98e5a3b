// `orch pg status [target]`: the PostgreSQL replication cluster as a table (or JSON). Parses argv and prints;
// collection and analysis live in src/pg.
import { InvalidArgumentError, type Command } from 'commander';
import { pgCommand } from '../pg-command.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';
import type { ProjectConfig } from '../../config/project.js';
import type { HostSpec } from '../../inventory/types.js';

interface StatusOptions {
  group?: string;
  limit?: string;
  acceptNewHostkeys?: boolean;
  timeout?: number;
  pgUser?: string;
  port?: number;
  socketDir?: string;
}

function positive(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${what} wants a positive number, got '${v}'`);
    return n;
  };
}

/** The recorded topology's expectations of each host; none (with a warning) when the job store cannot be read. */
async function recordedExpectations(
  project: ProjectConfig,
  hosts: HostSpec[],
): Promise<Map<string, { role: 'primary' | 'standby'; upstreams: string[] }>> {
  const [{ loadTopologies }, { expectedNodes }, { errorMessage }] = await Promise.all([
    import('../../jobs/topology.js'),
    import('../../pg/lifecycle/topology.js'),
    import('../../errors.js'),
  ]);
  try {
    const records = await loadTopologies(project);
    const byName = new Map(hosts.map((h) => [h.name, h.address]));
    return expectedNodes(records.values(), (h) => byName.get(h));
  } catch (err) {
    process.stderr.write(`orch: warning: recorded topology not read: ${errorMessage(err)}\n`);
    return new Map();
  }
}

/** Register `orch pg` and its subverbs. */
export function register(program: Command): void {
  const pgCmd = pgCommand(program);
  pgCmd
    .command('status')
    .description(
      'role, upstream, streaming state, lag, slots and timeline of every PostgreSQL server on the targeted hosts ' +
        '(read-only; exit 0 ok, 1 warnings such as inactive slots, standbys not streaming, copies left by a ' +
        'replica rebuild or a rebuild interrupted without rollback, 3 unreachable)',
    )
    .argument('[target]', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated", '*')
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--timeout <s>', 'seconds allowed for the query on each host', positive('--timeout'))
    .option('--pg-user <name>', 'PostgreSQL OS user to query as (default postgres, or pgsql)')
    .option('--port <n>', 'only the server on this port', positive('--port'))
    .option('--socket-dir <dir>', 'look for server sockets here first (default /var/run/postgresql, /tmp)')
    .action(async (target: string, opts: StatusOptions, cmd: Command) => {
      const [{ onEachHost, fleetOptionsFor }, status, left] = await Promise.all([
        import('../../transport/fleet.js'),
        import('../../pg/status.js'),
        import('../../pg/rebuild-leftovers.js'),
      ]);
      const project = projectFor(cmd);
      const timeoutMs = opts.timeout === undefined ? undefined : Math.round(opts.timeout * 1000);
      const { hosts } = await targetHosts(project, target, opts, {
        acceptNewHostKeys: opts.acceptNewHostkeys,
        timeoutMs,
      });
      const fleet = fleetOptionsFor(project, { acceptNewHostKeys: opts.acceptNewHostkeys, timeoutMs });
      const both = await onEachHost(hosts, fleet, async (conn) => ({
        status: await status.collectPgStatus(conn, {
          pgUser: opts.pgUser,
          port: opts.port,
          socketDir: opts.socketDir,
          timeoutMs,
        }),
        // Copies a replica rebuild left beside a data directory, and rebuilds interrupted without rollback.
        leftovers: await left.collectLeftovers(conn, timeoutMs),
      }));
      const report = status.analyzeStatus(
        both.map((o) => (o.ok ? { ...o, value: o.value.status } : o)),
        await recordedExpectations(project, hosts),
      );
      const found = both.flatMap((o) => (o.ok ? [{ host: o.host.name, ...o.value.leftovers }] : []));
      const leftovers = found.flatMap((h) => h.copies.map((c) => ({ host: h.host, ...c })));
      const interrupted = found.flatMap((h) => h.pending.map((p) => ({ host: h.host, ...p })));
      for (const o of both)
        if (o.ok) report.warnings.push(...left.leftoverWarnings(o.host.name, o.value.leftovers));
      if (report.exitCode === status.STATUS_EXIT.OK && report.warnings.length)
        report.exitCode = status.STATUS_EXIT.WARNING;
      if (globalOptions(cmd).output === 'json')
        printJson({ ...(status.statusJson(report) as object), leftovers, interrupted });
      else process.stdout.write(status.formatStatus(report));
      if (report.exitCode !== 0) process.exitCode = report.exitCode;
    });
}
