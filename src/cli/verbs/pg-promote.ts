// `orch pg promote <standby>`: unplanned failover with proven fencing (src/pg/lifecycle/promote.ts), as a job.
import type { Command } from 'commander';
import { positiveSeconds } from '../option-values.js';
import { lifecycleOptions, pgCommand } from '../pg-command.js';
import { LIFECYCLE_EXIT_HELP } from './pg-switchover.js';

interface Flags {
  test?: boolean;
  fenceCommand?: string;
  allowBehind?: boolean;
  wait: number;
  acceptNewHostkeys?: boolean;
  async?: boolean;
  onEvent?: string;
}

export function register(program: Command): void {
  lifecycleOptions(
    pgCommand(program)
      .command('promote')
      .description(
        'fail over to a standby when the primary is lost; refuses unless the old primary is fenced',
      )
      .argument('<standby>', 'the standby to promote')
      .option('--test', 'check fencing and the candidate, print the plan; change nothing')
      .option(
        '--fence-command <cmd>',
        'for an old primary unreachable over SSH: a local command (/bin/sh -c, ORCH_FENCE_HOST set) that powers it off or cuts it off; promotion happens only when it exits 0',
      )
      .option('--allow-behind', 'promote even when another standby received more WAL')
      .option(
        '--wait <s>',
        'longest wait for each other standby to stream from the new primary',
        positiveSeconds,
        60,
      ),
  )
    .addHelpText(
      'after',
      `
Fencing: when the old primary is reachable over SSH its server must be stopped; orch then writes standby.signal
(recovery.conf on 10/11) into its data directory, so whatever starts it brings it up read-only, never as a second
primary. When it is unreachable, --fence-command must exit 0 (without it: refused). A running old primary is
refused: use orch pg switchover. The candidate must have received at least as much WAL as every other reachable
standby (--allow-behind overrides). Then slots on the candidate, promotion, the topology recorded, the other
standbys repointed, the formula applied to every node but the old primary, which stays fenced until orch pg rejoin.
${LIFECYCLE_EXIT_HELP}`,
    )
    .action(async (standby: string, flags: Flags, cmd: Command) => {
      const { runLifecycle } = await import('../lifecycle-run.js');
      await runLifecycle(cmd, {
        verb: 'pg promote',
        target: standby,
        args: {
          standby,
          test: flags.test === true,
          fenceCommand: flags.fenceCommand,
          allowBehind: flags.allowBehind === true,
          wait: flags.wait,
          acceptNewHostkeys: flags.acceptNewHostkeys,
          onEvent: flags.onEvent,
        },
        async: flags.async,
      });
    });
}
