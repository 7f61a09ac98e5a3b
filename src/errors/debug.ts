// `--debug`: the CLI turns it on (with its secret masking); code below the CLI that handles an error without
// letting it escape (a host whose compile failed, an unreachable host) shows it through debugLog.
import { describeError } from './describe.js';

let mask: ((text: string) => string) | undefined;

/** Turn debug output on, with the function that masks secrets in it; undefined turns it off. */
export function setDebug(redact: ((text: string) => string) | undefined): void {
  mask = redact;
}

export function debugOn(): boolean {
  return mask !== undefined;
}

/** With --debug, print err's code, cause chain and stack to stderr, masked, under a heading (e.g. the host). */
export function debugLog(heading: string, err: unknown): void {
  if (!mask) return;
  const lines = describeError(err, { debug: true }).filter((l) => !l.startsWith('hint: '));
  process.stderr.write(mask(`orch: debug: ${heading}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`));
}

/** With --debug, print a block of text (a generated script, a host's raw output) to stderr, masked. */
export function debugText(heading: string, text: string): void {
  if (!mask) return;
  const body = text.replace(/\n$/, '').replace(/^/gm, '  | ');
  process.stderr.write(mask(`orch: debug: ${heading}:\n${body}\n`));
}
