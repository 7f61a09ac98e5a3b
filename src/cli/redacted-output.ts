// The last net in front of the terminal: every string orch writes to its own stdout and stderr goes through the
// redaction registry, whichever verb or library wrote it. Each verb still redacts what it builds; this catches a
// path that forgot (an error message quoting a value, a library warning). On a terminal the text is also made
// terminal-safe (src/text/terminal-safe.ts): what a host printed cannot drive the admin's terminal. orch's own
// cursor control (the live progress line) goes through writeTerminalControl.
import { redactor } from '../secrets/redactor.js';
import { terminalSafe } from '../text/terminal-safe.js';

type Write = typeof process.stdout.write;
type RawWrite = (...args: unknown[]) => boolean;
type Guarded = NodeJS.WriteStream & { orchRedacted?: boolean; orchRawWrite?: RawWrite };

/** Wrap the write method of each stream so text is redacted before it leaves the process. Idempotent. */
export function installOutputRedaction(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    const marked = stream as Guarded;
    if (marked.orchRedacted) continue;
    marked.orchRedacted = true;
    const original = stream.write.bind(stream) as RawWrite;
    marked.orchRawWrite = original;
    const tty = stream.isTTY === true;
    const clean = (text: string): string => {
      const masked = redactor.size === 0 ? text : redactor.redact(text);
      return tty ? terminalSafe(masked) : masked;
    };
    const write = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (redactor.size === 0 && !tty) return original(chunk, ...rest);
      if (typeof chunk === 'string') return original(clean(chunk), ...rest);
      if (chunk instanceof Uint8Array) return original(clean(Buffer.from(chunk).toString('utf8')), ...rest);
      return original(chunk, ...rest);
    };
    stream.write = write as Write;
  }
}

/** Write orch's own terminal control (a fixed sequence, no host text) past the terminal-safety net. */
export function writeTerminalControl(stream: NodeJS.WriteStream, sequence: string): void {
  const raw = (stream as Guarded).orchRawWrite;
  if (raw) raw(sequence);
  else stream.write(sequence);
}
