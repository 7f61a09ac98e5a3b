// `orch pg rejoin <host>`: a former primary back as a standby with pg_rewind (src/pg/lifecycle/rejoin.ts), as a job.
import type { Command } from 'commander';
import { positiveSeconds } from '../option-values.js';
import { lifecycleOptions, pgCommand } from '../pg-command.js';
import { LIFECYCLE_EXIT_HELP } from './pg-switchover.js';

interface Flags {
  test?: boolean;
  wait: number;
  acceptNewHostkeys?: boolean;
  async?: boolean;
  onEvent?: string;
  rebuildIfNeeded?: boolean;
}

export function register(program: Command): void {
  lifecycleOptions(
    pgCommand(program)
      .command('rejoin')
      .description(
        'bring a former primary (stopped, or a diverged standby) back as a standby of the current primary with pg_rewind',
      )
      .argument('<host>', 'the node to rejoin (an inventory host of the cluster)')
      .option('--test', 'check the node and print the plan; change nothing')
      .option(
        '--rebuild-if-needed',
        'when pg_rewind cannot work, rebuild the node from the primary (guarded; the old data directory is kept) instead of refusing',
      )
      .option('--wait <s>', 'longest wait for the node to stream from the primary', positiveSeconds, 60),
  )
    .addHelpText(
      'after',
      `
Steps: checks (exactly one primary, the recorded one; the node is stopped, or a standby whose timeline has diverged,
which is stopped; its pg_control shows wal_log_hints on or data checksums, and the primary's system identifier);
a node not shut down cleanly finishes crash recovery read-only first; on the primary, a CHECKPOINT (so its
pg_control names its new timeline), EXECUTE on the functions
pg_rewind reads with granted to the replication role and the node's slot created; pg_rewind --dry-run, then
pg_rewind, from the primary over the network (the replication role's .pgpass). The node's own configuration files
in its data directory (postgresql.conf, postgresql.auto.conf, pg_hba.conf, pg_ident.conf, conf.d) are kept, not
the primary's copies; /etc/postgresql (Debian) is not touched. Then standby.signal (recovery.conf on 11),
primary_conninfo and primary_slot_name, start, wait until it streams, its former slots dropped, the topology
recorded and the formula applied to the cluster. When rewind cannot work (neither wal_log_hints nor checksums,
another system, PostgreSQL 10, the dry run fails) it is refused (exit 7) with the rebuild to run instead:
orch apply <host> --force-rebuild <host>. With --rebuild-if-needed that rebuild runs in its place (also when the
rewind itself fails): the slot on the primary, then the formula with --force-rebuild for this node alone
(pg_make_replica: a base backup; the old data directory kept beside the new one, put back if the backup fails),
the wait until it streams and the topology recorded.
${LIFECYCLE_EXIT_HELP}`,
    )
    .action(async (host: string, flags: Flags, cmd: Command) => {
      const { runLifecycle } = await import('../lifecycle-run.js');
      await runLifecycle(cmd, {
        verb: 'pg rejoin',
        target: host,
        args: {
          host,
          test: flags.test === true,
          wait: flags.wait,
          acceptNewHostkeys: flags.acceptNewHostkeys,
          onEvent: flags.onEvent,
          rebuildIfNeeded: flags.rebuildIfNeeded === true,
        },
        async: flags.async,
      });
    });
}
