// The only place that quotes for POSIX /bin/sh. Everything that builds a remote command goes through here.

/** Quote one word for /bin/sh: single quotes, with embedded single quotes closed and escaped. */
export function shQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quote a list of words and join them into one command line. */
export function shJoin(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}

/**
 * A here-document body that cannot end early: picks a delimiter absent from the content.
 * The delimiter is quoted, so the shell performs no expansion inside.
 */
export function heredoc(content: string, hint = 'ORCH_EOF'): { open: string; body: string } {
  let delim = hint;
  let n = 0;
  const lines = new Set(content.split('\n'));
  while (lines.has(delim)) delim = `${hint}_${++n}`;
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return { open: `<<'${delim}'`, body: `${body}${delim}\n` };
}
