// `orch salt check [tree]`: every construct of a Salt tree orch cannot run, with file and line, before anything
// connects. The same constructs are compile errors (SALT_UNSUPPORTED) of `orch apply`, with file, line, state, host.
import path from 'node:path';
import type { Command } from 'commander';
import { exitCodeFor, OrchError } from '../../errors.js';
import { globalOptions, printJson, projectFor } from '../verb.js';

export function register(program: Command): void {
  const salt = program.command('salt').description('work with Salt state trees as they are (docs/SALT.md)');
  salt
    .command('check')
    .description('list every construct of a Salt tree that orch cannot run (file and line); connects nowhere')
    .argument('[tree]', 'the tree: a directory holding states/ (and pillar/); default: the project root')
    .addHelpText(
      'after',
      `
Exit codes: 0 orch can run everything it read; 4 something is listed (or the tree is not a Salt tree).
With -o json: {"files": [...], "findings": [{"file", "line", "state", "construct", "message"}]}.
Examples:
  orch salt check /srv/salt-project
  orch salt check . -o json`,
    )
    .action(async (tree: string | undefined, _o: unknown, cmd: Command) => {
      const [{ checkTree }, { createRenderEnv }] = await Promise.all([
        import('../../salt/check.js'),
        import('../../render/env.js'),
      ]);
      const root = tree === undefined ? projectFor(cmd).root : path.resolve(tree);
      const report = checkTree(root, createRenderEnv(root));
      const failed = report.findings.length > 0;
      if (globalOptions(cmd).output === 'json') printJson(report);
      else {
        const lines = report.findings.map(
          (f) =>
            `${f.file}${f.line ? `:${f.line}` : ''}: ${f.state ? `state '${f.state}': ` : ''}${f.construct}: ${f.message}`,
        );
        lines.push(
          failed
            ? `${report.findings.length} construct(s) orch cannot run, in ${report.files.length} file(s) read`
            : `orch can run every construct of the ${report.files.length} file(s) read`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = failed ? exitCodeFor(new OrchError('SALT_UNSUPPORTED', 'unsupported')) : 0;
    });
}
