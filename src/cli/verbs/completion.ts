// `orch completion bash|zsh`: a completion script for the shell, made from the registered verbs and options (so
// it lists exactly what this orch takes). Install: `orch completion bash > /etc/bash_completion.d/orch`, or for
// zsh `orch completion zsh > "${fpath[1]}/_orch"`. Completes verbs, sub-verbs, options and -o values.
import { Argument, type Command } from 'commander';
import { OrchError } from '../../errors.js';

interface Level {
  key: string;
  words: string[];
}

function optionWords(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
}

/** Words to offer after each verb path ('' = top level), from the commands themselves. */
export function completionLevels(program: Command): Level[] {
  const levels: Level[] = [];
  const walk = (cmd: Command, key: string) => {
    const subs = cmd.commands.map((c) => c.name());
    const words = [...subs, ...optionWords(cmd), '--help'];
    if (key === '') words.push(...optionWords(program).filter((w) => !words.includes(w)));
    levels.push({ key, words: [...new Set(words)] });
    for (const c of cmd.commands) walk(c, key ? `${key} ${c.name()}` : c.name());
  };
  walk(program, '');
  return levels;
}

/** The verb path so far, each key as a shell `case` pattern with its words. */
function caseArms(levels: Level[], indent: string, emit: (words: string) => string): string {
  return levels.map((l) => `${indent}'${l.key}') ${emit(l.words.join(' '))} ;;`).join('\n');
}

// Shared by both shells: the path of verbs typed so far (words that are verbs at their level), skipping options.
function pathScript(levels: Level[]): string {
  const keys = levels.map((l) => `'${l.key}'`).join(' ');
  return `_orch_path() {
  local p='' w cand
  for w in "$@"; do
    case "$w" in -*) continue ;; esac
    if [ -z "$p" ]; then cand="$w"; else cand="$p $w"; fi
    for k in ${keys}; do
      if [ "$k" = "$cand" ]; then p="$cand"; break; fi
    done
  done
  printf '%s' "$p"
}`;
}

export function bashCompletion(program: Command): string {
  const levels = completionLevels(program);
  return `# bash completion for orch (orch completion bash)
${pathScript(levels)}
_orch() {
  local cur prev words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W 'human json' -- "$cur")); return ;;
    -r|--root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    -i|--inventory) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "$(_orch_path "\${COMP_WORDS[@]:1:COMP_CWORD-1}")" in
${caseArms(levels, '    ', (w) => `words='${w}'`)}
    *) words='' ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _orch orch
`;
}

export function zshCompletion(program: Command): string {
  const levels = completionLevels(program);
  return `#compdef orch
# zsh completion for orch (orch completion zsh)
${pathScript(levels)}
_orch() {
  local -a offer
  case "\${words[CURRENT-1]}" in
    -o|--output) compadd human json; return ;;
    -r|--root) _directories; return ;;
    -i|--inventory) _files; return ;;
  esac
  case "$(_orch_path "\${(@)words[2,CURRENT-1]}")" in
${caseArms(levels, '    ', (w) => `offer=(${w})`)}
    *) offer=() ;;
  esac
  compadd -a offer || _files
}
compdef _orch orch
`;
}

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      `
Install:
  bash: orch completion bash > /etc/bash_completion.d/orch   (or: source <(orch completion bash))
  zsh:  orch completion zsh > "\${fpath[1]}/_orch"`,
    )
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else throw new OrchError('BAD_INPUT', `no completion for shell '${shell}' (bash or zsh)`);
    });
}
