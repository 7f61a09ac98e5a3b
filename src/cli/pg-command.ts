// The `orch pg` command that every pg-*.ts verb file adds its subcommand to, whichever file registers first.
import type { Command } from 'commander';

export function pgCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'pg') ??
    program.command('pg').description('PostgreSQL replication: status, switchover, follow, promote')
  );
}
