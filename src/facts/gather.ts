// Gathers a host's facts in exactly one round trip: the probe script on stdin, parsed on the controller.
// Read-only on the host; it does not cache facts (callers keep them for the run).
import { OrchError } from '../errors.js';
import type { Connection } from '../transport/types.js';
import { parseFacts, splitSections } from './parse.js';
import { factsScript } from './script.js';
import type { Facts } from './types.js';

export interface GatherOptions {
  timeoutMs?: number;
}

/** Run the facts probe on one connection (one runScript call) and parse its output. */
export async function gatherFacts(conn: Connection, opts: GatherOptions = {}): Promise<Facts> {
  const res = await conn.runScript(factsScript(), { timeoutMs: opts.timeoutMs ?? 60_000, readOnly: true });
  // The probe always exits 0 and prints its begin marker first; without it, the shell itself failed
  // (sudo refused, no /bin/sh), and facts made of nothing would mislead every later step.
  if (!splitSections(res.stdout).has('begin')) {
    const why = res.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    throw new OrchError(
      'COMMAND_FAILED',
      `${conn.host.name}: facts probe produced no output (exit ${res.code ?? res.signal ?? '?'})${why ? `: ${why}` : ''}`,
    );
  }
  return parseFacts(res.stdout);
}
