// `orch apply <target> [state...]`: converge hosts to their states, or show what would change with --test.
import type { Command } from 'commander';
import { globalOptions, printJson, projectFor } from '../verb.js';

export function register(program: Command): void {
  program
    .command('apply')
    .description(
      'converge the targeted hosts to their states (top file), or with --test show what would change',
    )
    .argument('<target>', "host names, globs ('*.example.com'), comma lists or group:<name>")
    .argument('[states...]', 'state files to run instead of the top file (e.g. postgres.primary)')
    .option('-g, --group <name>', 'only hosts in this group')
    .option('-t, --test', 'check only: report what would change, with diffs; writes nothing')
    .option('--stats', 'show connections and exec round trips per host')
    .option('-v, --verbose', 'list clean states too')
    .option('--accept-new-hostkeys', 'record unknown host keys (a changed key is still refused)')
    .option('--no-progress', 'no live progress on stderr')
    .addHelpText(
      'after',
      `
Exit codes: 0 all states ok; 1 some state failed; 3 some host unreachable or untrusted;
4 bad input (nothing changed anywhere); 5 internal error.
Examples:
  orch apply replica.example.com
  orch apply '*' --test
  orch apply group:db postgres.primary`,
    )
    .action(async (target: string, states: string[], o: ApplyFlags, cmd: Command) => {
      process.exitCode = await applyAction(target, states, o, cmd);
    });
}

interface ApplyFlags {
  group?: string;
  test?: boolean;
  stats?: boolean;
  verbose?: boolean;
  acceptNewHostkeys?: boolean;
  progress: boolean;
}

async function applyAction(target: string, states: string[], o: ApplyFlags, cmd: Command): Promise<number> {
  const [
    { loadInventory },
    { resolveTargets },
    { runStates },
    { formatRunReport },
    { createProgress },
    { runExitCode },
  ] = await Promise.all([
    import('../../inventory/load.js'),
    import('../../inventory/target.js'),
    import('../../engine/run.js'),
    import('../format/highstate.js'),
    import('../format/progress.js'),
    import('../../engine/exit.js'),
  ]);
  const g = globalOptions(cmd);
  const project = projectFor(cmd);
  const hosts = resolveTargets(loadInventory(project), target, { group: o.group });
  const progress = g.output === 'human' && o.progress ? createProgress(hosts.length) : undefined;
  const report = await runStates(project, hosts, {
    mode: o.test ? 'test' : 'apply',
    only: states.length ? states : undefined,
    acceptNewHostKeys: o.acceptNewHostkeys,
    onProgress: progress ? (e) => progress.onEvent(e) : undefined,
  });
  progress?.stop();
  if (g.output === 'json') printJson(report);
  else process.stdout.write(`${formatRunReport(report, { verbose: o.verbose, stats: o.stats })}\n`);
  return runExitCode(report);
}
