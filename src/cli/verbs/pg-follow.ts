// `orch pg follow [standby...]`: repoint standbys to the current primary (src/pg/lifecycle/follow.ts), as a job.
import type { Command } from 'commander';
import { OrchError } from '../../errors.js';
import { positiveSeconds } from '../option-values.js';
import { lifecycleOptions, pgCommand } from '../pg-command.js';
import { LIFECYCLE_EXIT_HELP } from './pg-switchover.js';

interface Flags {
  test?: boolean;
  wait: number;
  clusterHost?: string;
  acceptNewHostkeys?: boolean;
  async?: boolean;
  onEvent?: string;
}

export function register(program: Command): void {
  lifecycleOptions(
    pgCommand(program)
      .command('follow')
      .description(
        'repoint standbys to the one server out of recovery without a base backup, and record that topology',
      )
      .argument(
        '[standby...]',
        'the standbys to repoint (default: every node of the cluster but the primary)',
      )
      .option('--test', 'check every standby and print the plan; change nothing')
      .option('--cluster-host <host>', 'a host of the cluster, when no standby is named')
      .option('--wait <s>', 'longest wait for each standby to stream', positiveSeconds, 60),
  )
    .addHelpText(
      'after',
      `
A standby is repointed in place: primary_conninfo (host and port only; its other settings are kept) and
primary_slot_name, with a reload on 13+, a restart on 12, recovery.conf and a restart on 10/11; its slot is
created on the primary first. A standby whose timeline history is not a prefix of the primary's (it is on a newer
timeline, ahead of the primary, or past the primary's switch point) is refused, as is any change when two
servers are out of recovery. The topology found is recorded in the job store (docs/LIFECYCLE.md).
${LIFECYCLE_EXIT_HELP}`,
    )
    .action(async (standbys: string[], flags: Flags, cmd: Command) => {
      const { runLifecycle } = await import('../lifecycle-run.js');
      const anchor = standbys[0] ?? flags.clusterHost;
      if (!anchor)
        throw new OrchError('BAD_INPUT', 'name a standby, or a host of the cluster with --cluster-host');
      await runLifecycle(cmd, {
        verb: 'pg follow',
        target: standbys.length ? standbys.join(',') : anchor,
        args: {
          standbys,
          test: flags.test === true,
          wait: flags.wait,
          clusterHost: flags.clusterHost,
          acceptNewHostkeys: flags.acceptNewHostkeys,
          onEvent: flags.onEvent,
        },
        async: flags.async,
      });
    });
}
