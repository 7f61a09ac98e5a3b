// Output that arrives in chunks (SSH data events, a child's pipe) is masked line by line: a chunk boundary can
// fall inside a secret, so text is held until its line is complete and only whole lines are redacted.
import { redactor as defaultRedactor, type Redactor } from './redactor.js';

export interface LineRedactor {
  /** Feed one chunk; complete lines are passed on, redacted. */
  push(chunk: string): void;
  /** Pass on what is left after the last newline (call once, at the end of the stream). */
  end(): void;
}

export interface LineRedactorOptions {
  /** The visible part of a raw line: '' or null drops it (protocol lines); cut text never reaches emit. */
  visible?: (line: string) => string | null;
  redactor?: Redactor;
  /** Longest line held; a longer line is not passed on, only a note (this is live output only). */
  maxLine?: number;
}

export const LINE_CUT_NOTE = '[... rest of a very long line not shown live]';

/** Split a chunked stream into lines, keep the visible part of each, redact it and hand it to `emit`. */
export function lineRedactor(emit: (line: string) => void, opts: LineRedactorOptions = {}): LineRedactor {
  const r = opts.redactor ?? defaultRedactor;
  const maxLine = opts.maxLine ?? 1024 * 1024;
  let pending = '';
  // Set while the rest of an over-long line is being skipped (up to its newline).
  let skipping = false;
  const pass = (raw: string) => {
    const line = opts.visible ? opts.visible(raw) : raw;
    if (line) emit(r.redact(line));
  };
  return {
    push(chunk) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        if (!skipping) pass(pending.slice(0, nl));
        skipping = false;
        pending = pending.slice(nl + 1);
      }
      if (pending.length > maxLine) {
        // Never pass on part of a line: a secret could straddle the cut. Protocol lines are dropped silently.
        const shown = opts.visible ? opts.visible(pending) : pending;
        if (!skipping && shown) emit(LINE_CUT_NOTE);
        skipping = true;
        pending = '';
      }
    },
    end() {
      if (pending && !skipping) pass(pending);
      pending = '';
      skipping = false;
    },
  };
}
