// The steps of a lifecycle verb as they happen: each has a host, a name, an outcome and a line saying what it
// found or did. They go to the caller at once (the job stores each host's steps; the CLI prints them) and make
// the verb's report. The cluster's state after a failure is named by one of CLUSTER_STATES.
export interface Step {
  host: string;
  step: string;
  status: 'ok' | 'planned' | 'failed' | 'skipped';
  detail: string;
  at: string;
}

/** What a verb leaves behind: nothing changed; changes undone (the old primary runs again as primary); the new
 * primary serves but some nodes are not following it yet (`orch pg follow`); could not tell (see the steps); done. */
export const CLUSTER_STATES = ['unchanged', 'rolled_back', 'promoted_partial', 'unknown', 'done'] as const;
export type ClusterState = (typeof CLUSTER_STATES)[number];

export class StepLog {
  readonly steps: Step[] = [];

  constructor(private readonly onStep: (s: Step, all: Step[]) => void = () => undefined) {}

  add(host: string, step: string, status: Step['status'], detail: string): Step {
    const s: Step = { host, step, status, detail, at: new Date().toISOString() };
    this.steps.push(s);
    this.onStep(s, this.steps);
    return s;
  }

  ok(host: string, step: string, detail: string): void {
    this.add(host, step, 'ok', detail);
  }

  plan(host: string, step: string, detail: string): void {
    this.add(host, step, 'planned', detail);
  }

  /** The steps of one host, in order. */
  of(host: string): Step[] {
    return this.steps.filter((s) => s.host === host);
  }
}

/** Human lines of the steps: `[host] step: detail` with a mark for the outcome. */
export function formatSteps(steps: readonly Step[]): string {
  const mark = { ok: 'ok  ', planned: 'plan', failed: 'FAIL', skipped: 'skip' } as const;
  return steps.map((s) => `${mark[s.status]} ${s.host}: ${s.step}: ${s.detail}`).join('\n');
}
