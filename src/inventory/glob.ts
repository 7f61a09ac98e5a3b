// fnmatch-style globs for host names: `*` (any run, dots included), `?` (one character), `[abc]`, `[a-z]`,
// `[!a-z]` / `[^a-z]`. An unclosed `[` is a literal. Matching is case-sensitive and covers the whole name.

/** True when the term uses glob syntax and is not a plain name. */
export function isGlob(term: string): boolean {
  return /[*?[]/.test(term);
}

/** Compile a glob into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = classEnd(glob, i);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      // Inside a class only `\`, `]` and `^` are special to RegExp; `-` keeps its range meaning.
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

// Index of the `]` closing the class opened at `open`; a `]` right after `[` or `[!` is part of the class.
function classEnd(glob: string, open: number): number {
  let j = open + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++;
  const close = glob.indexOf(']', j);
  return close;
}
