// `orch init [dir]`: a new project skeleton (src/cli/init/skeleton.ts) and the next three commands to run.
import type { Command } from 'commander';
import { globalOptions, printJson } from '../verb.js';

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'make a new project: inventory with one example host, top files, a pillar with a fresh age key and one secret, an example state, orch.yaml',
    )
    .argument('[dir]', 'where to make it (created if missing; must not hold a project yet)', '.')
    .addHelpText(
      'after',
      '\nThe age identity that decrypts the pillar is written to <dir>/.orch/identity.txt (mode 0600, ignored by git).\n' +
        'Exit codes: 0 made, 4 the directory already holds a project (nothing written), 5 cannot write.',
    )
    .action(async (dir: string, _o: unknown, cmd: Command) => {
      const { writeSkeleton, EXAMPLE_HOST } = await import('../init/skeleton.js');
      const made = await writeSkeleton(dir);
      if (globalOptions(cmd).output === 'json') return printJson(made);
      const lines = [
        `made a project in ${made.dir}:`,
        ...made.files.map((f) => `  ${f}`),
        '',
        `age recipient: ${made.recipient} (its identity: ${made.identityFile})`,
        '',
        'next:',
        ...made.next.map((c) => `  ${c}`),
        '',
        `(before the last one, set the address of ${EXAMPLE_HOST} in inventory/hosts.yaml to a real host's)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
