// `orch run <target> -- <command...>`: one ad-hoc command on many hosts, one connection and one exec each.
// Parses argv and prints; connections live in src/transport. The command words are quoted with shJoin, so each
// stays one argument on the remote side (use `sh -c '...'` for shell syntax).
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { nonNegativeInt } from '../option-values.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { LIMIT_HELP, targetHosts } from '../targets.js';
import { runHostText, runJson, runSummary, runSummaryText } from '../../jobs/run-output.js';

interface RunOptions {
  group?: string;
  limit?: string;
  acceptNewHostkeys?: boolean;
  timeout?: number;
  become?: boolean;
  async?: boolean;
  retries?: number;
}

// The output and exit code of `orch run` live below the CLI (src/jobs/run-output.ts), for the worker and `orch jobs`.
export {
  runExitCode,
  runHostText,
  runJson,
  runSummary,
  runSummaryText,
  type RunHostJson,
  type RunSummary,
} from '../../jobs/run-output.js';

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--timeout wants a positive number of seconds, got '${v}'`);
  return n;
}

/** Register `orch run`. */
export function register(program: Command): void {
  program
    .command('run')
    .description('run an ad-hoc command on the targeted hosts, in parallel, one SSH connection each')
    .argument('<target>', "host names, globs ('*.example.com', '*') or group:<name>, comma-separated")
    .argument(
      '<command...>',
      "the command and its arguments, after `--`; each word stays one argument (use sh -c '...' for shell syntax)",
    )
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option(
      '--timeout <s>',
      'seconds the command may run on each host (the SSH handshake is bounded by it too)',
      parseSeconds,
    )
    .option(
      '--retries <n>',
      'try a connection that fails to open (refused, no answer) n more times, waiting 1 s, 2 s, 4 s ... (at most 30 s); never a failed command',
      nonNegativeInt,
    )
    .option(
      '--become',
      "run under the host's become method (sudo or doas) as its become user (sudo to root when the inventory names none)",
    )
    .option(
      '--async',
      'queue the job and print its id at once; a background worker runs it (orch jobs lookup <jid>)',
    )
    .addHelpText(
      'after',
      "\nExample:\n  orch run 'web*' -- systemctl is-active nginx\n\nOutput and the job record mask the project's pillar secrets when an age identity is available\n(without one they are not decrypted and not masked).\n\nExit: 0 all exited 0, 1 some exited non-zero, 3 some host unreachable (connection, auth, host key) or timed out,\n5 job store unusable or failing (every run is recorded as a job: orch jobs list),\n130/143 SIGINT/SIGTERM: commands already running finish and are recorded; a second signal exits at once\n(the hosts then end the commands, as after a kill -9 of orch: TERM, and KILL 5 s later).",
    )
    .action(async (target: string, words: string[], opts: RunOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const project = projectFor(cmd);
      const json = g.output === 'json';
      const { hosts } = await targetHosts(project, target, opts, {
        acceptNewHostKeys: opts.acceptNewHostkeys,
        noFacts: opts.async
          ? 'a queued job cannot use (the worker resolves targets from the inventory)'
          : undefined,
      });
      const args = {
        command: words,
        group: opts.group,
        limit: opts.limit,
        acceptNewHostkeys: opts.acceptNewHostkeys,
        timeout: opts.timeout,
        retries: opts.retries,
        become: opts.become === true,
        hosts: hosts.map((h) => h.name),
        inventory: g.inventory?.length ? project.inventoryPaths : undefined,
        parallel: g.parallel,
      };
      // Before the job is stored or any output printed: the command words and the hosts' output are masked
      // for the project's secrets when an identity is available (silently not otherwise).
      const [{ registerProjectSecrets }, { redactor }] = await Promise.all([
        import('../../secrets/project-secrets.js'),
        import('../../secrets/redactor.js'),
      ]);
      await registerProjectSecrets(project);
      if (opts.async) {
        const { submitAsync } = await import('../../jobs/async.js');
        process.exitCode = await submitAsync(project, { verb: 'run', target, args }, json);
        return;
      }
      const [{ recordedRun }, { executeRun }, { installInterruptHandlers }] = await Promise.all([
        import('../../jobs/record.js'),
        import('../../jobs/run-verb.js'),
        import('../../jobs/interrupt.js'),
      ]);
      // Ctrl-C / SIGTERM: commands already started finish, no new host starts; the job is recorded interrupted.
      installInterruptHandlers();
      const { outcomes, ms, exitCode } = await recordedRun(project, { verb: 'run', target, args }, (ctx) =>
        // Human output streams as hosts finish, so a slow host does not hide the others.
        executeRun(
          project,
          hosts,
          args,
          ctx,
          json ? undefined : (o) => process.stdout.write(redactor.redact(runHostText(o))),
        ),
      );
      if (json) printJson(runJson(outcomes, ms));
      else process.stdout.write(runSummaryText(runSummary(outcomes, ms)));
      if (exitCode !== EXIT.OK) process.exitCode = exitCode;
    });
}
