// `orch run <target> -- <command...>`: one ad-hoc command on many hosts, one connection and one exec each.
// Parses argv and prints; connections live in src/transport. The command words are quoted with shJoin, so each
// stays one argument on the remote side (use `sh -c '...'` for shell syntax).
import { InvalidArgumentError, type Command } from 'commander';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import type { HostOutcome } from '../../transport/fleet.js';
import type { ExecResult } from '../../transport/types.js';

interface RunOptions {
  group?: string;
  acceptNewHostkeys?: boolean;
  timeout?: number;
  become?: boolean;
  async?: boolean;
}

export interface RunHostJson {
  host: string;
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  error?: { code: string; message: string };
}

export interface RunSummary {
  hosts: number;
  /** Ran and exited 0. */
  ok: number;
  /** Ran and exited non-zero (or died by a signal). */
  nonZero: number;
  /** Could not run: unreachable, auth, host key, timeout. */
  failed: number;
  ms: number;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--timeout wants a positive number of seconds, got '${v}'`);
  return n;
}

/** Counts of hosts by result. */
export function runSummary(outcomes: readonly HostOutcome<ExecResult>[], ms: number): RunSummary {
  const ok = outcomes.filter((o) => o.ok && o.value.code === 0).length;
  const failed = outcomes.filter((o) => !o.ok).length;
  return { hosts: outcomes.length, ok, nonZero: outcomes.length - ok - failed, failed, ms };
}

/** The exit code: 3 when any host could not be reached/authenticated, else 1 when any command exited non-zero. */
export function runExitCode(outcomes: readonly HostOutcome<ExecResult>[]): number {
  const codes = outcomes.map((o) =>
    o.ok ? (o.value.code === 0 ? EXIT.OK : EXIT.FAILED) : exitCodeFor(o.error),
  );
  if (codes.includes(EXIT.UNREACHABLE)) return EXIT.UNREACHABLE;
  return codes.length ? Math.max(...codes) : EXIT.OK;
}

/** The JSON of `orch run -o json`. */
export function runJson(
  outcomes: readonly HostOutcome<ExecResult>[],
  ms: number,
): { hosts: RunHostJson[]; summary: RunSummary } {
  return {
    hosts: outcomes.map((o) =>
      o.ok
        ? {
            host: o.host.name,
            ok: o.value.code === 0,
            exitCode: o.value.code,
            stdout: o.value.stdout,
            stderr: o.value.stderr,
          }
        : {
            host: o.host.name,
            ok: false,
            exitCode: null,
            stdout: '',
            stderr: '',
            error: { code: o.error.code, message: o.error.message },
          },
    ),
    summary: runSummary(outcomes, ms),
  };
}

/** One host's block of human output: header, stdout, stderr, exit status. */
export function runHostText(o: HostOutcome<ExecResult>): string {
  const lines = [`=== ${o.host.name}`];
  if (!o.ok) {
    lines.push(`--- error ${o.error.code}: ${o.error.message}`);
    return `${lines.join('\n')}\n`;
  }
  const { stdout, stderr, code, signal } = o.value;
  let text = `${lines.join('\n')}\n`;
  if (stdout) text += stdout.endsWith('\n') ? stdout : `${stdout}\n`;
  if (stderr) text += `--- stderr\n${stderr.endsWith('\n') ? stderr : `${stderr}\n`}`;
  const status = code === null ? `killed by signal ${signal ?? '?'}` : `exit ${code}`;
  return `${text}--- ${status} (${seconds(o.ms)})\n`;
}

/** The closing summary line. */
export function runSummaryText(s: RunSummary): string {
  return `${s.hosts} host(s): ${s.ok} exit 0, ${s.nonZero} non-zero, ${s.failed} failed to run (${seconds(s.ms)})\n`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
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
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option(
      '--timeout <s>',
      'seconds the command may run on each host (the SSH handshake is bounded by it too)',
      parseSeconds,
    )
    .option('--become', "run under sudo as the host's become user (root when the inventory names none)")
    .option(
      '--async',
      'queue the job and print its id at once; a background worker runs it (orch jobs lookup <jid>)',
    )
    .addHelpText(
      'after',
      "\nExample:\n  orch run 'web*' -- systemctl is-active nginx\n\nOutput and the job record mask the project's pillar secrets when an age identity is available\n(without one they are not decrypted and not masked).\n\nExit: 0 all exited 0, 1 some exited non-zero, 3 some host unreachable (connection, auth, host key) or timed out,\n5 job store unusable or failing (every run is recorded as a job: orch jobs list),\n130/143 SIGINT/SIGTERM: commands already running finish and are recorded; a second signal exits at once.",
    )
    .action(async (target: string, words: string[], opts: RunOptions, cmd: Command) => {
      const [{ loadInventory }, { resolveTargets }] = await Promise.all([
        import('../../inventory/load.js'),
        import('../../inventory/target.js'),
      ]);
      const g = globalOptions(cmd);
      const project = projectFor(cmd);
      const json = g.output === 'json';
      const hosts = resolveTargets(loadInventory(project), target, { group: opts.group });
      const args = {
        command: words,
        group: opts.group,
        acceptNewHostkeys: opts.acceptNewHostkeys,
        timeout: opts.timeout,
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
