// The exit code of a state run (see src/errors/codes.ts): bad input beats unreachable beats failed.
import { EXIT } from '../errors/codes.js';
import { summarize } from './result.js';
import type { RunReport } from './run.js';

/** Exit code for a finished run report. */
export function runExitCode(report: RunReport): number {
  if (report.aborted) return EXIT.BAD_INPUT;
  const s = summarize(report.hosts);
  if (s.unreachable > 0) return EXIT.UNREACHABLE;
  if (s.failedHosts > 0) return EXIT.FAILED;
  return EXIT.OK;
}
