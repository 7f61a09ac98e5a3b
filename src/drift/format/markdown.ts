// Drift report as Markdown for a ticket or a chat: a table of hosts, then per host the drifted states with their
// diffs in fenced blocks. Table cells escape pipes and newlines; fences are longer than any backtick run inside.
import { hostLine } from './human.js';
import type { DriftReport } from '../types.js';

/** Escape text for one Markdown table cell. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A fenced code block that the content cannot close early. */
export function mdFence(content: string, lang = ''): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${content.trimEnd()}\n${fence}`;
}

/** Inline code span that survives backticks in the text. */
function code(s: string): string {
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${longest ? ` ${s} ` : s}${ticks}`;
}

/** The report as Markdown. */
export function formatDriftMarkdown(report: DriftReport): string {
  const out: string[] = [`## Drift report: ${mdCell(report.target)}`, ''];
  out.push(`Job ${report.jid ?? '(not recorded)'}, started ${report.startedAt}.`, '');
  if (report.aborted) {
    out.push(
      `**Aborted** before any host was checked: ${mdCell(report.aborted.host)}: ${mdCell(report.aborted.message)}`,
      '',
    );
  }
  out.push('| Host | Status | Drifted | Unknown | Errors | PostgreSQL |', '|---|---|---:|---:|---:|---|');
  for (const h of report.hosts) {
    const pg = !h.pgChecked ? '–' : h.pg.length === 0 ? 'ok' : `${h.pg.length} finding(s)`;
    out.push(
      `| ${mdCell(h.host)} | ${mdCell(hostLine(h))} | ${h.drifted.length} | ${h.unknown.length} | ${h.errors.length} | ${pg} |`,
    );
  }
  for (const h of report.hosts) {
    if (h.status === 'clean') continue;
    out.push('', `### ${mdCell(h.host)}`, '');
    for (const e of h.errors)
      out.push(`- **error**${e.state ? ` in ${code(e.state)}` : ''}: ${mdCell(e.message)}`);
    for (const f of h.pg) out.push(`- **postgres ${f.check}** (${f.severity}): ${mdCell(f.message)}`);
    for (const u of h.unknown) out.push(`- **unknown** ${code(`${u.fn} ${u.id}`)}: ${mdCell(u.comment)}`);
    for (const d of h.drifted) {
      out.push(
        `- **drifted** ${code(`${d.fn} ${d.id}`)} (${code(`${d.file}${d.line ? `:${d.line}` : ''}`)}): ${mdCell(d.comment)}`,
      );
      if (d.diff) out.push('', mdFence(d.diff, 'diff'), '');
    }
  }
  return `${out.join('\n')}\n`;
}
