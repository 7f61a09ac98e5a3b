// The last net in front of the terminal: every string orch writes to its own stdout and stderr goes through the
// redaction registry, whichever verb or library wrote it. Each verb still redacts what it builds; this catches a
// path that forgot (an error message quoting a value, a library warning).
import { redactor } from '../secrets/redactor.js';

type Write = typeof process.stdout.write;

/** Wrap the write method of each stream so text is redacted before it leaves the process. Idempotent. */
export function installOutputRedaction(
  streams: NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    const marked = stream as NodeJS.WriteStream & { orchRedacted?: boolean };
    if (marked.orchRedacted) continue;
    marked.orchRedacted = true;
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    const write = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (redactor.size === 0) return original(chunk, ...rest);
      if (typeof chunk === 'string') return original(redactor.redact(chunk), ...rest);
      if (chunk instanceof Uint8Array) {
        return original(redactor.redact(Buffer.from(chunk).toString('utf8')), ...rest);
      }
      return original(chunk, ...rest);
    };
    stream.write = write as Write;
  }
}
