// `orch pg promote <standby>`: unplanned failover with proven fencing (src/pg/lifecycle/promote.ts), as a job.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { scrubbedEnv } from '../../secrets/child-env.js';
import { positiveSeconds } from '../option-values.js';
import { pgCommand } from '../pg-command.js';
import { LIFECYCLE_EXIT_HELP } from './pg-switchover.js';

interface Flags {
  test?: boolean;
  fenceCommand?: string;
  allowBehind?: boolean;
  wait: number;
  acceptNewHostkeys?: boolean;
}

/** Run the fence command (/bin/sh -c) with ORCH_FENCE_HOST; its exit status (1 when it could not run). */
function runFence(command: string, host: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: scrubbedEnv({ ORCH_FENCE_HOST: host }),
    });
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

export function register(program: Command): void {
  pgCommand(program)
    .command('promote')
    .description('fail over to a standby when the primary is lost; refuses unless the old primary is fenced')
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
    )
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .addHelpText(
      'after',
      `
Fencing: when the old primary is reachable over SSH its server must be stopped; orch then writes standby.signal
(recovery.conf on 10/11) into its data directory, so whatever starts it brings it up read-only, never as a second
primary. When it is unreachable, --fence-command must exit 0 (without it: refused). A running old primary is
refused: use orch pg switchover. The candidate must have received at least as much WAL as every other reachable
standby (--allow-behind overrides). Then slots on the candidate, promotion, the topology recorded, the other
standbys repointed, the formula applied to every node but the old primary, which stays fenced until rejoined.
${LIFECYCLE_EXIT_HELP}`,
    )
    .action(async (standby: string, flags: Flags, cmd: Command) => {
      const [{ runLifecycle }, { promote }] = await Promise.all([
        import('../lifecycle-run.js'),
        import('../../pg/lifecycle/promote.js'),
      ]);
      const test = flags.test === true;
      const fenceCommand = flags.fenceCommand;
      await runLifecycle(
        cmd,
        {
          verb: 'pg promote',
          target: standby,
          args: { standby, test, fenceCommand, allowBehind: flags.allowBehind === true, wait: flags.wait },
          anchor: standby,
          test,
          acceptNewHostkeys: flags.acceptNewHostkeys,
        },
        (c, log, record) =>
          promote(
            c,
            {
              candidate: standby,
              test,
              fenceCommand,
              fence: fenceCommand ? (host) => runFence(fenceCommand, host) : undefined,
              allowBehind: flags.allowBehind === true,
              waitSeconds: flags.wait,
            },
            log,
            record,
          ),
      );
    });
}
