// `orch states [function]`: the reference of the state functions, from the schemas the engine validates with
// (src/states/reference.ts). Without a function, the list; with one, its arguments and what it will not touch.
import type { Command } from 'commander';
import { globalOptions, printJson } from '../verb.js';

export function register(program: Command): void {
  program
    .command('states')
    .description('list the state functions, or show one function’s arguments, defaults and limits')
    .argument('[function]', 'a state function, e.g. file.managed')
    .addHelpText('after', '\nThe same reference, for every function, is docs/STATES.md.')
    .action(async (fn: string | undefined, _o: unknown, cmd: Command) => {
      const [{ stateDoc, stateDocs }, { stateText, stateListText }] = await Promise.all([
        import('../../states/reference.js'),
        import('../format/reference.js'),
      ]);
      const docs = fn === undefined ? stateDocs() : [stateDoc(fn)];
      if (globalOptions(cmd).output === 'json') printJson(fn === undefined ? { states: docs } : docs[0]);
      else process.stdout.write(fn === undefined ? stateListText(docs) : stateText(docs[0]!));
    });
}
