// Splits the output of a batched script (src/shell/script.ts) back into per-step results. Lines carrying the
// run's nonce are protocol; everything else between a step's markers is that step's free text (stdout+stderr).
import { MARK } from './script.js';

export interface StepOutput {
  index: number;
  /** Exit status of the step's subshell; 'skip' when its guard was false; null when the step never ended. */
  status: number | 'skip' | null;
  kv: Record<string, string>;
  /** Free text the step printed (commands' stdout and stderr), trimmed. */
  text: string;
}

/** Parse a batch's stdout; steps that began but never ended (the script died) get status null. */
export function parseBatchOutput(stdout: string, nonce: string): Map<number, StepOutput> {
  const prefix = `${MARK}:${nonce}:`;
  const steps = new Map<number, StepOutput>();
  let current: StepOutput | null = null;
  let text: string[] = [];
  for (const raw of stdout.split('\n')) {
    // A step whose last output has no final newline glues orch_kv's marker to it: the text before the marker is the
    // step's, the rest is protocol (the nonce cannot be guessed, so no host text can start a marker).
    const at = raw.indexOf(prefix);
    if (at < 0) {
      if (current) text.push(raw);
      continue;
    }
    if (at > 0 && current) text.push(raw.slice(0, at));
    const rest = raw.slice(at + prefix.length);
    const [kind, ...fields] = rest.split(':');
    if (kind === 'begin') {
      current = { index: Number(fields[0]), status: null, kv: {}, text: '' };
      text = [];
      steps.set(current.index, current);
    } else if (kind === 'end' && current) {
      const status = fields[1];
      current.status = status === 'skip' ? 'skip' : Number(status);
      current.text = text.join('\n').trim();
      current = null;
    } else if (kind === 'kv' && current) {
      const key = fields[0] ?? '';
      current.kv[key] = Buffer.from(fields.slice(1).join(':'), 'hex').toString('utf8');
    } else if (kind === 'kvt' && current) {
      // Only KV_PLAIN bytes travel plain (orch_kv): the rest of the line is the value.
      current.kv[fields[0] ?? ''] = fields.slice(1).join(':');
    }
  }
  if (current) current.text = text.join('\n').trim();
  return steps;
}
