// `orch drift [target]`: check-only run of every assigned state (plus PostgreSQL replication checks), recorded as a
// job; `orch drift history` and `orch drift show <jid>` read past runs. Parses options and prints; the work is in
// src/drift/.
import { InvalidArgumentError, type Command } from 'commander';
import { nonNegativeInt, positiveInt } from '../option-values.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';
import { globalOptions, projectFor } from '../verb.js';

interface DriftFlags {
  group?: string;
  limit?: string;
  format?: string;
  reportFile?: string;
  onDrift?: string;
  acceptNewHostkeys?: boolean;
  progress: boolean;
  timeout?: number;
  retries?: number;
  async?: boolean;
}

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`wants a positive number of seconds, got '${v}'`);
  return n;
}

export function register(program: Command): void {
  const drift = program
    .command('drift')
    .description('check hosts against their states without changing anything; report drift (exit 2 when any)')
    .argument('[target]', "host names, globs, comma lists or group:<name> (default '*')", '*')
    .option('-g, --group <name>', 'only hosts in this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('--format <format>', 'human, json, junit or markdown (default: human, or json with -o json)')
    .option(
      '--report-file <path>',
      'also write the report here (.json, .xml, .md pick the format; else --format)',
    )
    .option(
      '--on-drift <command>',
      'run this local command (/bin/sh -c) with the JSON report on stdin when drift, unknown or unreachable hosts are found',
    )
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--no-progress', 'no live progress on stderr')
    .option(
      '--timeout <s>',
      "longest each host's check may take, connecting included; past it that host counts as not checked (exit 3)",
      positiveSeconds,
    )
    .option(
      '--retries <n>',
      'try a connection that fails to open (refused, no answer) n more times, waiting 1 s, 2 s, 4 s ... (at most 30 s); never a failed check',
      nonNegativeInt,
    )
    .option(
      '--async',
      'queue the check and print its job id at once; a background worker runs it (orch jobs lookup <jid>, orch drift show <jid>)',
    )
    .addHelpText(
      'after',
      `
Only the read-only check of each state runs (as apply --test), plus one read-only PostgreSQL query on hosts with
postgres pillar (inactive or lost slots, a standby not streaming, replay lag over postgres.drift.max_lag_seconds
(default 300) / max_lag_bytes, settings pending a restart, a server in the wrong role).
Exit codes: 0 no drift; 2 drift or unknown states; 3 some host could not be checked (unreachable, or a check
failed, or timed out) - this wins over 2; 4 bad input (nothing checked); 5 internal error (job store);
130/143 interrupted by SIGINT/SIGTERM. With --async: 0 once queued (or 4/5 when it cannot be);
'orch jobs wait <jid>' then exits with the drift's own code, and 'orch jobs list' shows it clean or drifted.
Every run is recorded as a job (verb drift): see 'orch drift history' and 'orch drift show <jid>'.
The --on-drift command gets the report (secrets masked) on stdin and ORCH_DRIFT_EXIT / ORCH_DRIFT_JID, in a
scrubbed environment: no ORCH_* variable of yours (identity, job store URL), no PGPASSWORD, and no variable whose
value holds an age key, a URL with a password or a decrypted secret; everything else (PATH, HOME, ...) is kept.
Examples:
  orch drift '*'
  orch drift group:db --format junit --report-file drift.xml
  orch drift '*' --on-drift 'mail -s "drift on $(hostname)" ops@example.com'`,
    )
    .action(async (target: string, o: DriftFlags, cmd: Command) => {
      process.exitCode = await driftAction(target, o, cmd);
    });

  drift
    .command('history')
    .description(
      'the drift trend per host from recorded drift runs: when each host drifted and became clean again',
    )
    .option('--host <name>', 'only this host')
    .option('--limit <n>', 'look at the newest n drift runs (default 30)', positiveInt)
    .action(async (o: { host?: string; limit?: number }, cmd: Command) => {
      process.exitCode = await historyAction(o, cmd);
    });

  drift
    .command('show')
    .description('print a recorded drift report')
    .argument('<jid>', 'job id of a drift run (see orch drift history)')
    .option('--format <format>', 'human, json, junit or markdown')
    .action(async (jid: string, o: { format?: string }, cmd: Command) => {
      process.exitCode = await showAction(jid, o, cmd);
    });
}

async function driftAction(target: string, o: DriftFlags, cmd: Command): Promise<number> {
  const g = globalOptions(cmd);
  const project = projectFor(cmd);
  if (o.async && (o.onDrift || o.reportFile)) {
    const { OrchError } = await import('../../errors.js');
    throw new OrchError(
      'BAD_INPUT',
      '--async cannot take --on-drift or --report-file (no terminal waits for the report); read it with orch drift show <jid>',
    );
  }
  const { hosts } = await targetHosts(project, target, o, {
    acceptNewHostKeys: o.acceptNewHostkeys,
    noFacts: o.async ? 'a queued job cannot use (the worker resolves targets from the inventory)' : undefined,
  });
  const args = {
    target,
    group: o.group,
    limit: o.limit,
    timeout: o.timeout,
    retries: o.retries,
    acceptNewHostkeys: o.acceptNewHostkeys,
    hosts: hosts.map((h) => h.name),
    inventory: g.inventory?.length ? project.inventoryPaths : undefined,
    parallel: g.parallel,
  };
  if (o.async) {
    const { submitAsync } = await import('../../jobs/async.js');
    return submitAsync(project, { verb: 'drift', target, args }, g.output === 'json');
  }
  const [
    { writeFileSync },
    fmt,
    { recordedRun },
    { executeDrift },
    { createProgress },
    { EXIT },
    { installInterruptHandlers, interruptedBy },
  ] = await Promise.all([
    import('node:fs'),
    import('../../drift/format/index.js'),
    import('../../jobs/record.js'),
    import('../../jobs/drift-verb.js'),
    import('../format/progress.js'),
    import('../exit-codes.js'),
    import('../../jobs/interrupt.js'),
  ]);
  installInterruptHandlers();
  const format = o.format ? fmt.parseDriftFormat(o.format) : g.output === 'json' ? 'json' : 'human';
  const progress = format === 'human' && o.progress ? createProgress(hosts.length) : undefined;
  const { report, exitCode } = await recordedRun(project, { verb: 'drift', target, args }, (ctx) =>
    executeDrift(project, hosts, target, args, ctx, progress ? (e) => progress.onEvent(e) : undefined),
  );
  progress?.stop();

  // recordedRun's exit code: the drift's own, unless the run was interrupted (130/143) or not recorded (5).
  process.stdout.write(fmt.renderDriftReport(report, format, true));
  if (o.reportFile) {
    // A file is output too: masked like stdout (which the CLI's output net covers, files it does not).
    const { redactor } = await import('../../secrets/redactor.js');
    writeFileSync(
      o.reportFile,
      redactor.redact(fmt.renderDriftReport(report, fmt.formatForFile(o.reportFile, format))),
    );
  }
  if (o.onDrift && exitCode !== EXIT.OK && exitCode !== EXIT.BAD_INPUT && !interruptedBy()) {
    const { runDriftHook } = await import('../../drift/on-drift.js');
    const hook = await runDriftHook(o.onDrift, JSON.stringify(report), {
      ORCH_DRIFT_EXIT: String(exitCode),
      ORCH_DRIFT_JID: report.jid ?? '',
    });
    if (!hook.ok) {
      const why = hook.timedOut ? 'timed out' : `exited with ${hook.code ?? 'a signal'}`;
      process.stderr.write(
        `orch: warning: --on-drift command ${why}${hook.stderr ? `: ${hook.stderr}` : ''}\n`,
      );
    }
  }
  return exitCode;
}

async function historyAction(o: { host?: string; limit?: number }, cmd: Command): Promise<number> {
  const [{ openJobStore }, h, { printJson }, { OrchError }] = await Promise.all([
    import('../../jobs/open.js'),
    import('../../jobs/drift-history.js'),
    import('../verb.js'),
    import('../../errors.js'),
  ]);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) {
    throw new OrchError('BAD_INPUT', '--limit must be a positive whole number');
  }
  const store = await openJobStore(projectFor(cmd));
  try {
    const jobs = await h.loadDriftJobs(store, { host: o.host, limit: o.limit });
    const trends = h.computeTrends(jobs, o.host);
    if (globalOptions(cmd).output === 'json') printJson({ runs: jobs.length, hosts: trends });
    else process.stdout.write(`${h.formatTrends(trends)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

async function showAction(jid: string, o: { format?: string }, cmd: Command): Promise<number> {
  const [{ openJobStore }, { reportFromJob }, fmt, { OrchError }] = await Promise.all([
    import('../../jobs/open.js'),
    import('../../jobs/drift-history.js'),
    import('../../drift/format/index.js'),
    import('../../errors.js'),
  ]);
  // `drift` has a --format of its own, which commander hands the parent when given after `show <jid>`.
  const given = o.format ?? (cmd.parent?.opts() as { format?: string } | undefined)?.format;
  const format = given
    ? fmt.parseDriftFormat(given)
    : globalOptions(cmd).output === 'json'
      ? 'json'
      : 'human';
  const store = await openJobStore(projectFor(cmd));
  try {
    const job = await store.get(jid);
    if (!job) throw new OrchError('BAD_INPUT', `no job ${jid}`);
    if (job.verb !== 'drift')
      throw new OrchError('BAD_INPUT', `job ${jid} is a ${job.verb} job, not a drift run`);
    process.stdout.write(fmt.renderDriftReport(reportFromJob(job), format, true));
    return 0;
  } finally {
    await store.close();
  }
}
