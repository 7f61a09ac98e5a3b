// The `orch pg` command that every pg-*.ts verb file adds its subcommand to, whichever file registers first.
import type { Command } from 'commander';

export function pgCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'pg') ??
    program.command('pg').description('PostgreSQL replication: status, switchover, follow, promote')
  );
}

/** The options every lifecycle verb takes (switchover, follow, promote, rejoin), added after the verb's own. */
export function lifecycleOptions(verb: Command): Command {
  return verb
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option(
      '--on-event <command>',
      'run this command (/bin/sh -c, on the controller) with the outcome as JSON on stdin (docs/LIFECYCLE.md)',
    )
    .option(
      '--async',
      'queue the job and print its id at once; a background worker runs it (orch jobs lookup <jid>)',
    );
}
