// The output and exit code of `orch run`: its JSON, its human blocks and summary line. Pure functions over host
// outcomes, shared by the verb, the worker (stored results) and `orch jobs` (showing a stored run).
import { exitCodeFor } from '../errors.js';
import { EXIT } from '../errors/codes.js';
import type { HostOutcome } from '../transport/fleet.js';
import type { ExecResult } from '../transport/types.js';

export interface RunHostJson {
  host: string;
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  error?: { code: string; message: string };
}

export interface RunSummary {
  hosts: number;
  /** Ran and exited 0. */
  ok: number;
  /** Ran and exited non-zero (or died by a signal). */
  nonZero: number;
  /** Could not run: unreachable, auth, host key, timeout. */
  failed: number;
  ms: number;
}

/** Counts of hosts by result. */
export function runSummary(outcomes: readonly HostOutcome<ExecResult>[], ms: number): RunSummary {
  const ok = outcomes.filter((o) => o.ok && o.value.code === 0).length;
  const failed = outcomes.filter((o) => !o.ok).length;
  return { hosts: outcomes.length, ok, nonZero: outcomes.length - ok - failed, failed, ms };
}

/** The exit code: 3 when any host could not be reached/authenticated, else 1 when any command exited non-zero. */
export function runExitCode(outcomes: readonly HostOutcome<ExecResult>[]): number {
  const codes = outcomes.map((o) =>
    o.ok ? (o.value.code === 0 ? EXIT.OK : EXIT.FAILED) : exitCodeFor(o.error),
  );
  if (codes.includes(EXIT.UNREACHABLE)) return EXIT.UNREACHABLE;
  return codes.length ? Math.max(...codes) : EXIT.OK;
}

/** The JSON of `orch run -o json`. */
export function runJson(
  outcomes: readonly HostOutcome<ExecResult>[],
  ms: number,
): { hosts: RunHostJson[]; summary: RunSummary } {
  return {
    hosts: outcomes.map((o) =>
      o.ok
        ? {
            host: o.host.name,
            ok: o.value.code === 0,
            exitCode: o.value.code,
            stdout: o.value.stdout,
            stderr: o.value.stderr,
          }
        : {
            host: o.host.name,
            ok: false,
            exitCode: null,
            stdout: '',
            stderr: '',
            error: { code: o.error.code, message: o.error.message },
          },
    ),
    summary: runSummary(outcomes, ms),
  };
}

/** One host's block of human output: header, stdout, stderr, exit status. */
export function runHostText(o: HostOutcome<ExecResult>): string {
  const lines = [`=== ${o.host.name}`];
  if (!o.ok) {
    lines.push(`--- error ${o.error.code}: ${o.error.message}`);
    return `${lines.join('\n')}\n`;
  }
  const { stdout, stderr, code, signal } = o.value;
  let text = `${lines.join('\n')}\n`;
  if (stdout) text += stdout.endsWith('\n') ? stdout : `${stdout}\n`;
  if (stderr) text += `--- stderr\n${stderr.endsWith('\n') ? stderr : `${stderr}\n`}`;
  const status = code === null ? `killed by signal ${signal ?? '?'}` : `exit ${code}`;
  return `${text}--- ${status} (${seconds(o.ms)})\n`;
}

/** The closing summary line. */
export function runSummaryText(s: RunSummary): string {
  return `${s.hosts} host(s): ${s.ok} exit 0, ${s.nonZero} non-zero, ${s.failed} failed to run (${seconds(s.ms)})\n`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
