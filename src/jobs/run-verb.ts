// The `orch run` job: one ad-hoc command on many hosts, whether the CLI runs it or a worker does. Each host's
// outcome goes to the job record as it arrives; a cancel request stops hosts that have not started the command.
// It neither prints nor opens the job store (the CLI streams output through onDone).
import { z } from 'zod';
import { runExitCode, runJson, runSummary } from './run-output.js';
import type { ProjectConfig } from '../config/project.js';
import { hostErrorStatus } from '../engine/result.js';
import { OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { registerProjectSecrets } from '../secrets/project-secrets.js';
import { shJoin } from '../shell/quote.js';
import { fleetOptionsFor, onEachHost, type HostOutcome } from '../transport/fleet.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../transport/ssh.js';
import type { ExecResult } from '../transport/types.js';
import { commonJobArgs, type JobKind } from './kind.js';
import { lastLineOf } from './progress.js';
import type { JobContext, JobOutcome } from './record.js';

/** The stored arguments of a run job (never secrets). */
export const runJobArgs = z.object({
  ...commonJobArgs,
  command: z
    .array(z.string())
    .min(1)
    .describe('the command words; each stays one argument on the remote side'),
  timeout: z.number().positive().optional().describe('seconds the command may run on each host'),
  become: z.boolean().optional().describe("run under the host's become method (sudo or doas)"),
});

export type RunJobArgs = z.infer<typeof runJobArgs>;

export interface RunOutcome extends JobOutcome {
  outcomes: HostOutcome<ExecResult>[];
  ms: number;
}

/** Output kept per stream in the job store; more is cut with a note (the live output is never cut). */
export const STORED_OUTPUT_LIMIT = 256 * 1024;

/** Run args.command on hosts as job ctx; onDone sees each host's outcome as it finishes. */
export async function executeRun(
  project: ProjectConfig,
  hosts: HostSpec[],
  args: RunJobArgs,
  ctx: JobContext,
  onDone?: (o: HostOutcome<ExecResult>) => void,
): Promise<RunOutcome> {
  // Hosts' output may quote a project secret: mask them all before anything is printed or stored.
  await registerProjectSecrets(project);
  const command = shJoin(args.command);
  const timeoutMs = args.timeout === undefined ? undefined : Math.round(args.timeout * 1000);
  const fleet = fleetOptionsFor(project, {
    acceptNewHostKeys: args.acceptNewHostkeys,
    timeoutMs,
    retries: args.retries,
  });
  // --timeout bounds the handshake too (a stopped sshd accepts TCP and never answers).
  if (timeoutMs !== undefined)
    fleet.connectTimeoutMs = Math.min(fleet.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, timeoutMs);
  const started = Date.now();
  const outcomes = await onEachHost(
    hosts,
    fleet,
    (conn) => {
      // Checked per host: hosts that already ran keep their result, the rest are left alone.
      if (ctx.cancelled())
        throw new OrchError(
          'CANCELLED',
          `${conn.host.name}: not run: ${ctx.stopReason() ?? 'cancelled'} before the command ran`,
        );
      ctx.hostProgress(conn.host.name, { phase: 'running' });
      // A long command's last line is its progress (masked when stored).
      const toJob = (line: string) => ctx.hostProgress(conn.host.name, { phase: 'running', line });
      return conn.exec(command, {
        become: args.become === true,
        timeoutMs,
        // Ended on the host when the controller is gone (a kill -9, a dropped connection): never left orphaned.
        watchdog: true,
        onStdout: lastLineOf(toJob),
        onStderr: lastLineOf(toJob),
      });
    },
    {
      onDone: (o) => {
        ctx.hostResult(o.host.name, runHostStatus(o), storedRunHost(o));
        onDone?.(o);
      },
      stopReason: () => (ctx.cancelled() ? (ctx.stopReason() ?? 'cancelled') : undefined),
    },
  );
  const ms = Date.now() - started;
  return { exitCode: runExitCode(outcomes), summary: { ...runSummary(outcomes, ms) }, outcomes, ms };
}

/** ok (exit 0), failed (non-zero), not_run (cancel or interrupt), timeout, unreachable or error. */
export function runHostStatus(o: HostOutcome<ExecResult>): string {
  if (o.ok) return o.value.code === 0 ? 'ok' : 'failed';
  return hostErrorStatus(o.error.code);
}

/** The stored shape of one host of a run: `orch run -o json`'s host entry plus its time and signal. */
export interface StoredRunHost {
  host: string;
  ok: boolean;
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  error?: { code: string; message: string };
  ms: number;
}

function storedRunHost(o: HostOutcome<ExecResult>): StoredRunHost {
  const h = runJson([o], o.ms).hosts[0]!;
  const out: StoredRunHost = { ...h, stdout: cap(h.stdout), stderr: cap(h.stderr), ms: o.ms };
  if (o.ok && o.value.signal) out.signal = o.value.signal;
  return out;
}

function cap(s: string): string {
  if (s.length <= STORED_OUTPUT_LIMIT) return s;
  return `${s.slice(0, STORED_OUTPUT_LIMIT)}\n[... ${s.length - STORED_OUTPUT_LIMIT} more characters not stored]\n`;
}

/** The run kind: no locks (an ad-hoc command is the admin's own business, as with ssh). */
export const runKind: JobKind<RunJobArgs> = {
  verb: 'run',
  args: runJobArgs,
  run: (project, hosts, args, ctx) => executeRun(project, hosts, args, ctx),
};
