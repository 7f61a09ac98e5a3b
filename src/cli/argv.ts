// Command words of `orch run <target> <command...>` belong to the command: in `orch run web1 uname -r` the `-r`
// is uname's, not orch's --root. Commander would parse options anywhere, so before parsing, a `--` is put in
// front of the first command word of such a verb (unless the user wrote one). Options that come before it (orch's
// and the verb's own, e.g. `orch run -g db '*' ls`) are still orch's. Which options take a value is read from the
// commands themselves, so this stays true when options are added.
import type { Command, Option } from 'commander';

/** Verbs whose trailing words are a command to run, with how many positional arguments come before it. */
const COMMAND_VERBS: Record<string, number> = { run: 1 };

function takesValue(opts: readonly Option[], arg: string): boolean | undefined {
  const flag = arg.includes('=') && arg.startsWith('--') ? undefined : arg;
  if (flag === undefined) return false; // --opt=value carries its value
  const o = opts.find((x) => x.long === flag || x.short === flag);
  if (!o) return undefined;
  return o.required || o.optional;
}

/** argv (node, script, ...args) with a `--` before the first command word of a command verb. */
export function protectCommandWords(program: Command, argv: string[]): string[] {
  const args = argv.slice(2);
  let i = 0;
  // Global options before the verb.
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '--') {
    i += takesValue(program.options, args[i]!) ? 2 : 1;
  }
  const verb = args[i];
  if (verb === undefined || !Object.hasOwn(COMMAND_VERBS, verb)) return argv;
  const sub = program.commands.find((c) => c.name() === verb);
  if (!sub) return argv;
  const opts = [...sub.options, ...program.options];
  let positionals = 0;
  for (let j = i + 1; j < args.length; j++) {
    const a = args[j]!;
    if (a === '--') return argv;
    if (a.startsWith('-') && a.length > 1) {
      if (takesValue(opts, a)) j++;
      continue;
    }
    if (positionals === COMMAND_VERBS[verb]) {
      return [...argv.slice(0, 2), ...args.slice(0, j), '--', ...args.slice(j)];
    }
    positionals++;
  }
  return argv;
}
