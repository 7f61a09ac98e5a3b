// `orch pg switchover <standby>`: planned change of primary (src/pg/lifecycle/switchover.ts), recorded as a job.
import type { Command } from 'commander';
import { positiveInt, positiveSeconds } from '../option-values.js';
import { lifecycleOptions, pgCommand } from '../pg-command.js';

interface Flags {
  test?: boolean;
  maxLag: number;
  wait: number;
  acceptNewHostkeys?: boolean;
  async?: boolean;
  onEvent?: string;
}

export const LIFECYCLE_EXIT_HELP = `Exit codes: 0 done (with --test: the plan printed, nothing changed); 7 refused by a preflight check,
nothing was changed; 1 a step failed: the message names the state the cluster is left in (rolled_back: the old
primary runs again; promoted_partial: the new primary runs, the nodes named do not follow it yet, see orch pg
follow; unknown); 3 a host unreachable (refused); 4 bad input; 5 job store or internal error; 6 a host is locked
by another job. With --async: 0 once queued (4/5 when it cannot be); the worker's job carries the exit code.
Every run is a job: 'orch jobs lookup <jid>' shows each host's steps. --on-event gets one JSON object on stdin
({event, jid, ok, exit_code, state, message, hosts, steps, topology}) after every run but --test, refusals too,
with ORCH_EVENT / ORCH_EVENT_JID set and secrets scrubbed from its environment; its own failure is a warning.`;

export function register(program: Command): void {
  lifecycleOptions(
    pgCommand(program)
      .command('switchover')
      .description(
        'make a streaming standby the primary with no data loss and no base backup; the old primary follows it',
      )
      .argument('<standby>', 'the standby to promote (an inventory host of the cluster)')
      .option('--test', 'run the preflight checks and print the plan step by step; change nothing')
      .option(
        '--max-lag <bytes>',
        'largest replay lag of the standby that preflight accepts',
        positiveInt,
        16 * 1024 * 1024,
      )
      .option(
        '--wait <s>',
        'longest wait for the checkpoint to be replayed and for each standby to stream',
        positiveSeconds,
        60,
      ),
  )
    .addHelpText(
      'after',
      `
Steps: preflight (the standby streams from the primary, replay lag within --max-lag, replay not paused, every
other standby streams from the primary on its timeline); CHECKPOINT and a fast shutdown of the old primary; proof
that the standby replayed the shutdown checkpoint (pg_controldata's LSN against its receive/replay LSN); the
other nodes' slots created on it; promotion; the topology recorded in the job store (docs/LIFECYCLE.md); the other
standbys repointed in place (reload on 13+, restart on 12, recovery.conf on 10/11); the old primary started as a
standby of the new one, its former slots dropped. Before the promotion a failure starts the old primary again.
${LIFECYCLE_EXIT_HELP}`,
    )
    .action(async (standby: string, flags: Flags, cmd: Command) => {
      const { runLifecycle } = await import('../lifecycle-run.js');
      await runLifecycle(cmd, {
        verb: 'pg switchover',
        target: standby,
        args: {
          standby,
          test: flags.test === true,
          maxLag: flags.maxLag,
          wait: flags.wait,
          acceptNewHostkeys: flags.acceptNewHostkeys,
          onEvent: flags.onEvent,
        },
        async: flags.async,
      });
    });
}
