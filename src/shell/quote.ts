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

/**
 * A command that prints `content` byte for byte: a quoted here-document when the text ends with a newline
 * (readable), otherwise printf with octal escapes (exact, including a missing final newline).
 */
export function printContent(content: string, redirect = ''): string {
  const to = redirect ? ` ${redirect}` : '';
  if (content.endsWith('\n') && !content.includes('\0')) {
    const { open, body } = heredoc(content);
    return `cat ${open}${to}\n${body.replace(/\n$/, '')}`;
  }
  const bytes = Buffer.from(content, 'utf8');
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += 512) {
    const part = [...bytes.subarray(i, i + 512)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    chunks.push(`printf '${part}'`);
  }
  return chunks.length ? `{ ${chunks.join('; ')}; }${to}` : `: ${to}`;
}
