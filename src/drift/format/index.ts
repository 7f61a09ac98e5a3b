// Picks a drift report format by name (or by a report file's extension) and renders it. Text only.
import { OrchError } from '../../errors.js';
import type { DriftReport } from '../types.js';
import { formatDriftHuman } from './human.js';
import { formatDriftJunit } from './junit.js';
import { formatDriftMarkdown } from './markdown.js';

export const DRIFT_FORMATS = ['human', 'json', 'junit', 'markdown'] as const;
export type DriftFormat = (typeof DRIFT_FORMATS)[number];

/** Validate a --format value (BAD_INPUT otherwise). */
export function parseDriftFormat(v: string): DriftFormat {
  const f = v === 'md' ? 'markdown' : v === 'xml' ? 'junit' : v;
  if (!(DRIFT_FORMATS as readonly string[]).includes(f)) {
    throw new OrchError('BAD_INPUT', `unknown format '${v}': use ${DRIFT_FORMATS.join(', ')}`);
  }
  return f as DriftFormat;
}

/** The format a report file gets from its extension (.json, .xml, .md), else `fallback`. */
export function formatForFile(file: string, fallback: DriftFormat): DriftFormat {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.xml$/i.test(file)) return 'junit';
  if (/\.(md|markdown)$/i.test(file)) return 'markdown';
  return fallback;
}

/** Render a report in a format (always ending with a newline); `toStdout`: human text may be coloured. */
export function renderDriftReport(report: DriftReport, format: DriftFormat, toStdout = false): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'junit':
      return `${formatDriftJunit(report)}\n`;
    case 'markdown':
      return formatDriftMarkdown(report);
    default:
      return `${formatDriftHuman(report, toStdout)}\n`;
  }
}
