// Which verb files a command line needs. Every verb file registers its commands on the program; loading all of them
// costs more than the whole start of a light command (`orch apply --async`), so a verb whose file registers it
// alone is run with only that file loaded. Help, completion and the verbs spread over several files load all.
import type { Command } from 'commander';

/** Verbs whose file of the same name registers them and nothing else: only that file is loaded to run them. */
const SELF_CONTAINED_VERBS = new Set([
  'apply',
  'drift',
  'facts',
  'hostkeys',
  'hosts',
  'init',
  'jobs',
  'pillar',
  'render',
  'run',
  'salt',
  'schedule',
  'secrets',
  'states',
  'worker',
]);

/**
 * The one verb file a command line needs, or undefined when it needs them all (help, completion, pg, lab, an
 * unknown word). Loading one file instead of every verb keeps the start of `orch apply --async` short.
 */
export function verbFileFor(program: Command, args: readonly string[]): string | undefined {
  if (args.some((a) => a === '-h' || a === '--help' || a === 'help')) return undefined;
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '--') {
    const a = args[i]!;
    const opt = program.options.find((o) => o.long === a || o.short === a);
    i += opt && (opt.required || opt.optional) ? 2 : 1;
  }
  const word = args[i];
  return word !== undefined && SELF_CONTAINED_VERBS.has(word) ? word : undefined;
}
