// Drift report as JUnit XML for CI dashboards: one <testsuite> per host, one <testcase> per state (failure when it
// drifted, error when its check failed, skipped when unknown), PostgreSQL checks as extra testcases, and an error
// testcase for a host that could not be reached. Every text is XML-escaped. Text only.
import type { DriftItem, DriftReport, HostDrift } from '../types.js';

// XML 1.0 allows only these characters; anything else (control bytes in a diff of a binary file) is dropped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escape text for an XML attribute value or element content. */
export function xmlEscape(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;');
}

const attr = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

interface Case {
  name: string;
  kind?: 'failure' | 'error' | 'skipped';
  message?: string;
  body?: string;
}

function casesOf(h: HostDrift): Case[] {
  const cases: Case[] = [];
  if (h.status === 'unreachable') {
    return [{ name: 'connect', kind: 'error', message: h.errors[0]?.message ?? 'unreachable' }];
  }
  if (h.status === 'not_run') {
    return [{ name: 'checks', kind: 'skipped', message: h.errors[0]?.message ?? 'not checked' }];
  }
  const stateCase = (d: DriftItem, kind: Case['kind']): Case => ({
    name: `${d.fn} ${d.id}`,
    kind,
    message: d.comment.split('\n')[0] ?? '',
    body: [d.comment, d.diff ?? ''].filter(Boolean).join('\n'),
  });
  for (const e of h.errors) {
    cases.push({ name: e.state ?? 'compile', kind: 'error', message: e.message, body: e.code ?? '' });
  }
  for (const d of h.drifted) cases.push(stateCase(d, 'failure'));
  for (const u of h.unknown) cases.push(stateCase(u, 'skipped'));
  for (const name of h.cleanStates) cases.push({ name });
  for (const f of h.pg) {
    // A warning is no failure: it is listed as a passing case with its message.
    if (f.severity === 'warning') {
      cases.push({ name: `postgres ${f.check}${f.subject ? ` ${f.subject}` : ''} (warning: ${f.message})` });
      continue;
    }
    cases.push({
      name: `postgres ${f.check}${f.subject ? ` ${f.subject}` : ''}`,
      kind: f.severity === 'error' ? 'error' : 'failure',
      message: f.message,
    });
  }
  if (h.pgChecked && h.pg.length === 0) cases.push({ name: 'postgres replication' });
  return cases;
}

/** The report as a JUnit XML document. */
export function formatDriftJunit(report: DriftReport): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = report.hosts.map((h) => ({ h, cases: casesOf(h) }));
  const count = (k: Case['kind']) => all.reduce((n, x) => n + x.cases.filter((c) => c.kind === k).length, 0);
  const total = all.reduce((n, x) => n + x.cases.length, 0);
  out.push(
    `<testsuites${attr({ name: `orch drift ${report.target}`, tests: total, failures: count('failure'), errors: count('error'), skipped: count('skipped') })}>`,
  );
  if (report.aborted) {
    out.push(
      `  <testsuite${attr({ name: 'compile', tests: 1, failures: 0, errors: 1, skipped: 0, timestamp: report.startedAt })}>`,
    );
    out.push(`    <testcase${attr({ classname: report.aborted.host, name: 'compile' })}>`);
    out.push(`      <error${attr({ message: report.aborted.message, type: report.aborted.code })}/>`);
    out.push('    </testcase>', '  </testsuite>');
  }
  for (const { h, cases } of all) {
    const n = (k: Case['kind']) => cases.filter((c) => c.kind === k).length;
    out.push(
      `  <testsuite${attr({ name: h.host, tests: cases.length, failures: n('failure'), errors: n('error'), skipped: n('skipped'), time: (h.ms / 1000).toFixed(3), timestamp: report.startedAt })}>`,
    );
    for (const c of cases) {
      const head = `    <testcase${attr({ classname: h.host, name: c.name })}`;
      if (!c.kind) {
        out.push(`${head}/>`);
        continue;
      }
      const type = c.kind === 'failure' ? 'drift' : c.kind === 'error' ? 'error' : 'unknown';
      const inner =
        c.kind === 'skipped'
          ? `<skipped${attr({ message: c.message ?? '' })}/>`
          : `<${c.kind}${attr({ message: c.message ?? '', type })}>${xmlEscape(c.body ?? '')}</${c.kind}>`;
      out.push(`${head}>`, `      ${inner}`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n');
}
