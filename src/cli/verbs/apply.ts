// `orch apply <target> [state...]`: converge hosts to their states, or show what would change with --test.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { OrchError } from '../../errors.js';
import { nonNegativeInt, positiveInt } from '../option-values.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';
import { batchSizeValue, diffLinesValue, percentValue } from '../option-values.js';

export function register(program: Command): void {
  program
    .command('apply')
    .description(
      'converge the targeted hosts to their states (top file), or with --test show what would change',
    )
    .argument('<target>', "host names, globs ('*.example.com'), comma lists or group:<name>")
    .argument(
      '[states...]',
      "state files to run instead of the top file (e.g. postgres.primary); Salt's test=True and saltenv=<env> are read as --test and --saltenv",
    )
    .option('-g, --group <name>', 'only hosts in this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('-t, --test', 'check only: report what would change, with diffs; writes nothing')
    .option(
      '--saltenv <env>',
      "a Salt tree's environment in top.sls (default: every environment, as Salt merges them)",
    )
    // Rolling runs, as Ansible's serial / max_fail_percentage and Salt's --batch-size.
    .option(
      '--batch <n>',
      'rolling run: this many hosts at a time (2) or a share of them (25%)',
      batchSizeValue,
    )
    .option(
      '--fail-percent <p>',
      'with --batch: stop when more than p% of a batch failed (0: any failure); later hosts not run',
      percentValue,
    )
    // How much of the report: as Salt's --state-output and a cap on long diffs.
    .addOption(
      new Option(
        '--state-output <mode>',
        'how much per state: changes = only what changed or failed, terse = one line each',
      )
        .choices(['full', 'changes', 'terse'])
        .default('full'),
    )
    .option(
      '--diff <lines>',
      `diff lines shown per state before folding (default 40); full: all`,
      diffLinesValue,
    )
    .option('--stats', 'show connections and exec round trips per host')
    .option('-v, --verbose', 'list clean states too; -vv also each phase per host with its time', more, 0)
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--no-progress', 'no live progress on stderr')
    .option(
      '--async',
      'queue the job and print its id at once; a background worker runs it (orch jobs lookup <jid>)',
    )
    .option(
      '--shard-size <n>',
      'with --async (PostgreSQL job store): split the hosts into shards of n that any number of orch workers claim; one job, one result',
      positiveInt,
    )
    .option(
      '--on-event <command>',
      'after the run, this command (/bin/sh -c, on the controller) gets one JSON event on stdin per replica rebuilt (or failed) by postgres.replica; with --async the worker runs it (docs/LIFECYCLE.md)',
    )
    .option('--wait', 'when a host is locked by another job, wait for it instead of failing (exit 6)')
    .option(
      '--force-rebuild [hosts]',
      'this run only: let postgres.replica replace data it would refuse on these hosts (comma list; alone: the one targeted host); the old data directory is kept',
    )
    .option('--wait-timeout <s>', 'longest wait for locked hosts, in seconds (default 600)', waitSeconds)
    .option(
      '--timeout <s>',
      "longest each host's run may take, connecting included; past it that host fails (exit 3), the others go on",
      waitSeconds,
    )
    .option(
      '--retries <n>',
      'try a connection that fails to open (refused, no answer) n more times, waiting 1 s, 2 s, 4 s ... (at most 30 s); never a failed state',
      nonNegativeInt,
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 all states ok; 1 some state failed; 3 some host unreachable, untrusted or timed out (--timeout);
4 bad input (nothing changed anywhere); 5 internal error or job store unusable;
6 a host is locked by another job; 130/143 interrupted by SIGINT/SIGTERM (each host's running step
finishes first; a second signal exits at once). Every run is recorded as a job (orch jobs list).
A host that times out has its connection closed: its remote step finishes on its own, no later step runs.
Examples:
  orch apply replica.example.com
  orch apply '*' --test
  orch apply group:db postgres.primary
  orch apply replica.example.com --async
  orch apply '*' --async --shard-size 50   (then 'orch worker' on each controller; PostgreSQL job store)
  orch apply '*' test=True saltenv=base     (a Salt tree: states/top.sls)
  orch apply group:db --batch 2 --fail-percent 0
Rolling runs: every host compiles first; then the batches run in order, a standby never before its primary
(postgres.replica's primary). Hosts left by a stop are reported not run (exit 1 from the failed batch).`,
    )
    .action(async (target: string, states: string[], o: ApplyFlags, cmd: Command) => {
      process.exitCode = await applyAction(target, states, o, cmd);
    });
}

interface ApplyFlags {
  group?: string;
  limit?: string;
  test?: boolean;
  stats?: boolean;
  verbose: number;
  acceptNewHostkeys?: boolean;
  progress: boolean;
  async?: boolean;
  shardSize?: number;
  onEvent?: string;
  wait?: boolean;
  waitTimeout?: number;
  forceRebuild?: string | true;
  timeout?: number;
  retries?: number;
  saltenv?: string;
  batch?: { hosts: number } | { percent: number };
  failPercent?: number;
  stateOutput: 'full' | 'changes' | 'terse';
  diff?: number;
}

/**
 * Salt's keyword arguments among the state names (`state.apply test=True saltenv=prod`), as orch's options.
 * Salt reads True/true/1 and False/false/0 for test (salt.utils.args.yamlify_arg).
 */
export function saltKeywords(states: string[], o: ApplyFlags): string[] {
  const rest: string[] = [];
  for (const s of states) {
    const m = /^(test|saltenv)=(.*)$/.exec(s);
    if (!m) {
      rest.push(s);
      continue;
    }
    if (m[1] === 'saltenv') {
      if (o.saltenv !== undefined && o.saltenv !== m[2])
        throw new OrchError('BAD_INPUT', `saltenv=${m[2]} and --saltenv ${o.saltenv} disagree`);
      o.saltenv = m[2];
    } else if (/^(true|1)$/i.test(m[2]!)) o.test = true;
    else if (!/^(false|0)$/i.test(m[2]!))
      throw new OrchError('BAD_INPUT', `test=${m[2]}: expected True or False`);
  }
  return rest;
}

/** The hosts `--force-rebuild` names: each must be targeted; alone it means the single targeted host. */
export function forcedHosts(v: string | true | undefined, targeted: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (v === true) {
    if (targeted.length !== 1)
      throw new OrchError(
        'BAD_INPUT',
        `--force-rebuild without host names needs exactly one targeted host, not ${targeted.length}; name them: --force-rebuild host1,host2`,
      );
    return targeted;
  }
  const named = v
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const stray = named.filter((h) => !targeted.includes(h));
  if (named.length === 0 || stray.length)
    throw new OrchError(
      'BAD_INPUT',
      `--force-rebuild names hosts that are not targeted: ${stray.join(', ') || '(none given)'}`,
    );
  return named;
}

/** -v, -vv: each occurrence adds one. */
function more(_v: string, prev: number): number {
  return prev + 1;
}

function waitSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`wants a positive number of seconds, got '${v}'`);
  return n;
}

async function applyAction(target: string, given: string[], o: ApplyFlags, cmd: Command): Promise<number> {
  const g = globalOptions(cmd);
  if (o.failPercent !== undefined && !o.batch)
    throw new OrchError('BAD_INPUT', '--fail-percent needs --batch (the share is of a batch)');
  if (o.shardSize !== undefined && !o.async)
    throw new OrchError('BAD_INPUT', '--shard-size needs --async (workers claim the shards of a queued job)');
  if (o.shardSize !== undefined && o.batch)
    throw new OrchError('BAD_INPUT', '--shard-size and --batch cannot be combined (shards run in parallel)');
  const project = projectFor(cmd);
  const states = saltKeywords(given, o);
  if (o.saltenv !== undefined) {
    if (o.async)
      throw new OrchError(
        'BAD_INPUT',
        '--saltenv cannot be queued with --async (the worker reads the top file on its own)',
      );
    project.saltenv = o.saltenv;
  }
  const { hosts } = await targetHosts(project, target, o, {
    acceptNewHostKeys: o.acceptNewHostkeys,
    noFacts: o.async ? 'a queued job cannot use (the worker resolves targets from the inventory)' : undefined,
  });
  const forceRebuild = forcedHosts(
    o.forceRebuild,
    hosts.map((h) => h.name),
  );
  const args = {
    states: states.length ? states : undefined,
    forceRebuild,
    group: o.group,
    limit: o.limit,
    test: o.test === true,
    acceptNewHostkeys: o.acceptNewHostkeys,
    hosts: hosts.map((h) => h.name),
    inventory: g.inventory?.length ? project.inventoryPaths : undefined,
    parallel: g.parallel,
    wait: o.wait,
    waitTimeoutMs: o.waitTimeout === undefined ? undefined : o.waitTimeout * 1000,
    timeout: o.timeout,
    retries: o.retries,
    rollout: o.batch ? { size: o.batch, failPercent: o.failPercent } : undefined,
    onEvent: o.onEvent,
  };
  if (o.async) {
    const { submitAsync, submitShardedAsync } = await import('../../jobs/async.js');
    const spec = { verb: 'apply', target, args };
    return o.shardSize === undefined
      ? submitAsync(project, spec, g.output === 'json')
      : submitShardedAsync(project, spec, o.shardSize, g.output === 'json');
  }
  const [
    { recordedRun },
    { executeApply },
    { formatRunReport },
    { createProgress },
    { installInterruptHandlers },
  ] = await Promise.all([
    import('../../jobs/record.js'),
    import('../../jobs/apply-verb.js'),
    import('../format/highstate.js'),
    import('../format/progress.js'),
    import('../../jobs/interrupt.js'),
  ]);
  // Ctrl-C / SIGTERM: finish each host's current step, record the job interrupted, free the locks, exit 130/143.
  installInterruptHandlers();
  const { report, exitCode } = await recordedRun(
    project,
    { verb: 'apply', target, args },
    async (ctx) => {
      const progress = g.output === 'human' && o.progress ? createProgress(hosts.length) : undefined;
      try {
        return await executeApply(
          project,
          hosts,
          args,
          ctx,
          progress ? (e) => progress.onEvent(e) : undefined,
        );
      } finally {
        progress?.stop();
      }
    },
    {
      lockHosts: o.test ? undefined : hosts.map((h) => h.name),
      wait: o.wait,
      waitTimeoutMs: args.waitTimeoutMs,
    },
  );
  if (g.output === 'json') printJson(report);
  else
    process.stdout.write(
      `${formatRunReport(report, {
        verbose: o.verbose,
        stats: o.stats,
        stateOutput: o.stateOutput,
        diffLines: o.diff,
      })}\n`,
    );
  return exitCode;
}
