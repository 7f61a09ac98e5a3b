// The --on-event hook: what a lifecycle verb (switchover, promote, follow, rejoin) or a replica rebuild by
// `orch apply` did, as one JSON object on the stdin of an operator's command (/bin/sh -c, on the controller), with
// ORCH_EVENT and ORCH_EVENT_JID in its environment. It is run like --on-drift (src/drift/on-drift.ts): the
// environment scrubbed of secrets, stdin and stderr masked, bounded by a timeout; its stdout goes to orch's stderr
// (orch's stdout is the report). Its failure is a warning, never the verb's exit code.
import { runDriftHook, type HookResult } from '../drift/on-drift.js';
import type { HostRunResult } from '../engine/result.js';
import type { Step } from '../pg/lifecycle/steps.js';
import type { TopologyRecord } from '../pg/lifecycle/topology.js';

export const EVENT_KINDS = ['rebuild', 'promote', 'switchover', 'follow', 'rejoin'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface OrchEvent {
  event: EventKind;
  /** The job that did it. */
  jid: string;
  at: string;
  ok: boolean;
  exit_code: number;
  /** The cluster state (lifecycle verbs: done, unchanged, rolled_back, promoted_partial, unknown). */
  state?: string;
  message: string;
  hosts: string[];
  steps?: Step[];
  topology?: Omit<TopologyRecord, 'epoch'> | null;
}

/** The event a lifecycle verb's job makes ('pg rejoin' -> rejoin). */
export function lifecycleEvent(
  verb: string,
  jid: string,
  r: { exitCode: number; state: string; message: string; steps: Step[]; topology?: OrchEvent['topology'] },
): OrchEvent {
  const event = verb.replace(/^pg /, '') as EventKind;
  return {
    event,
    jid,
    at: new Date().toISOString(),
    ok: r.exitCode === 0,
    exit_code: r.exitCode,
    state: r.state,
    message: r.message,
    hosts: [...new Set(r.steps.map((s) => s.host))],
    steps: r.steps,
    topology: r.topology ?? null,
  };
}

// pg_make_replica's own words for the runs that built, resumed or rolled back a data directory.
const REBUILT = /replica built from|resumed the rebuild|rolled back the rebuild/;

/** One rebuild event per host whose postgres.replica state rebuilt (or failed) in an apply's report. */
export function rebuildEvents(jid: string, hosts: readonly HostRunResult[]): OrchEvent[] {
  const out: OrchEvent[] = [];
  for (const h of hosts)
    for (const s of h.states) {
      if (s.fn !== 'postgres.replica') continue;
      const failed = s.status === 'failed';
      if (!failed && !(s.changed && REBUILT.test(s.comment))) continue;
      out.push({
        event: 'rebuild',
        jid,
        at: new Date().toISOString(),
        ok: !failed,
        exit_code: failed ? 1 : 0,
        message: s.comment,
        hosts: [h.host],
      });
    }
  return out;
}

/** Run the hook with the event on stdin; the hook's result. */
export function emitEvent(command: string, ev: OrchEvent, timeoutMs?: number): Promise<HookResult> {
  return runDriftHook(
    command,
    JSON.stringify(ev),
    { ORCH_EVENT: ev.event, ORCH_EVENT_JID: ev.jid },
    timeoutMs,
    'stderr',
  );
}

/** A warning line for a hook that did not end well (undefined when it did). */
export function hookWarning(hook: HookResult): string | undefined {
  if (hook.ok) return undefined;
  const why = hook.timedOut ? 'timed out' : hook.code === null ? 'could not run' : `exited ${hook.code}`;
  return `--on-event command ${why}${hook.stderr ? `: ${hook.stderr}` : ''}`;
}
