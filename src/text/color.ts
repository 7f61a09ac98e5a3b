// The one colour switch of orch's output: colour on a terminal; NO_COLOR (any value) turns it off, FORCE_COLOR
// turns it on even in a pipe (FORCE_COLOR=0 off), and FORCE_COLOR wins when both are set, as in Node itself.

/** Whether text written to a stream with isTTY `tty` gets colour, given the environment. */
export function colorEnabled(tty: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return tty === true;
}

export interface Palette {
  on: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
}

/** Colours for a stream (default stdout), decided once per call. */
export function palette(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Palette {
  const on = colorEnabled(stream.isTTY, env);
  const paint = (code: string) => (s: string) => (on && s ? `\u001b[${code}m${s}\u001b[0m` : s);
  return {
    on,
    green: paint('32'),
    red: paint('31'),
    yellow: paint('33'),
    cyan: paint('36'),
    bold: paint('1'),
  };
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;

/** The length of text as shown, colour codes left out. */
export function visibleLength(s: string): number {
  return s.replace(SGR, '').length;
}
