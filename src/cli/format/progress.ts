// Live per-host progress on stderr while a run goes on. On a terminal one status line is redrawn; otherwise each
// host's phase changes and the output of long apply steps are printed as plain lines (readable in CI logs).
import type { ProgressEvent } from '../../engine/run.js';
import { writeTerminalControl } from '../redacted-output.js';

const CLEAR_LINE = '\r\u001b[2K';

export interface Progress {
  onEvent(e: ProgressEvent): void;
  stop(): void;
}

/** A progress reporter for `total` hosts writing to `stream` (default stderr). */
export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  const phases = new Map<string, string>();
  let done = 0;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const active = [...phases.entries()].filter(([, p]) => p !== 'done');
    const byPhase = new Map<string, string[]>();
    for (const [h, p] of active) byPhase.set(p, [...(byPhase.get(p) ?? []), h]);
    const parts = [...byPhase.entries()].map(
      ([p, hs]) => `${p}: ${hs.slice(0, 3).join(', ')}${hs.length > 3 ? ` +${hs.length - 3}` : ''}`,
    );
    const line = `[${done}/${total}] ${parts.join(' | ')}`.slice(0, (stream.columns ?? 120) - 1);
    writeTerminalControl(stream, CLEAR_LINE);
    stream.write(line);
  };
  return {
    onEvent(e) {
      if (e.phase === 'output') {
        if (tty) writeTerminalControl(stream, CLEAR_LINE);
        stream.write(`  ${e.host}| ${e.line}\n`);
        if (tty) draw(true);
        return;
      }
      if (e.phase === 'done') {
        done++;
        phases.set(e.host, 'done');
        if (!tty)
          stream.write(
            `${e.host}: ${e.result.error ? `error (${e.result.error.code})` : e.result.ok ? 'done' : 'done with failures'}\n`,
          );
      } else {
        phases.set(e.host, e.phase);
        if (!tty && (e.phase === 'applying' || e.phase === 'connecting'))
          stream.write(`${e.host}: ${e.phase}\n`);
      }
      if (tty) draw(e.phase === 'done');
    },
    stop() {
      if (tty) writeTerminalControl(stream, CLEAR_LINE);
    },
  };
}
