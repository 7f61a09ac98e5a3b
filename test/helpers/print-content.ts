// Reads back what printContent put into a generated script, so tests can assert on the SQL or text it carries.
// printContent writes `printf '<format>'` lines whose format holds no `%` and only `\n` and `\ooo` escapes.

/** The bytes of every printContent in `script`, in order and concatenated, as UTF-8 text. */
export function printedText(script: string): string {
  const parts: Buffer[] = [];
  for (const m of script.matchAll(/printf '([^'%]*)'/g)) {
    const fmt = m[1]!;
    if (fmt.replace(/\\(n|[0-7]{3})/g, '').includes('\\')) continue;
    const bytes: number[] = [];
    for (let i = 0; i < fmt.length; i++) {
      if (fmt[i] !== '\\') {
        bytes.push(fmt.charCodeAt(i));
      } else if (fmt[i + 1] === 'n') {
        bytes.push(10);
        i += 1;
      } else {
        bytes.push(parseInt(fmt.slice(i + 1, i + 4), 8));
        i += 3;
      }
    }
    parts.push(Buffer.from(bytes));
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The bodies of every hereDocument in `script` (quoted, ORCH_EOF delimiters), in order and concatenated. */
export function hereDocText(script: string): string {
  return [...script.matchAll(/<<'(ORCH_EOF(?:_\d+)?)'\n([\s\S]*?\n)\1\n/g)].map((m) => m[2]!).join('');
}
