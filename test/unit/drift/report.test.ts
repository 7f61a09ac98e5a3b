// Drift report building, exit-code rules and the output formats (human, JSON, JUnit XML parsed back, Markdown).
import assert from 'node:assert/strict';
import { driftExitCode, hostDrift } from '../../../src/drift/build.js';
import { formatDriftHuman, hostLine } from '../../../src/drift/format/human.js';
import { formatForFile, parseDriftFormat, renderDriftReport } from '../../../src/drift/format/index.js';
import { formatDriftJunit, xmlEscape } from '../../../src/drift/format/junit.js';
import { formatDriftMarkdown, mdCell, mdFence } from '../../../src/drift/format/markdown.js';
import type { DriftReport } from '../../../src/drift/types.js';
import type { HostRunResult, StateResult } from '../../../src/engine/result.js';

const st = (id: string, status: StateResult['status'], over: Partial<StateResult> = {}): StateResult => ({
  id,
  fn: 'file.managed',
  name: id,
  status,
  result: status === 'clean' ? true : status === 'failed' ? false : null,
  changed: false,
  comment: `${id} is ${status}`,
  file: 'states/site.yaml',
  line: 3,
  ...over,
});
const host = (name: string, states: StateResult[], error?: HostRunResult['error']): HostRunResult => ({
  host: name,
  ok: !error && states.every((s) => s.status !== 'failed'),
  states,
  stats: { connections: 1, execs: 2 },
  ms: 1234,
  ...(error ? { error } : {}),
});
const report = (hosts: DriftReport['hosts'], over: Partial<DriftReport> = {}): DriftReport => ({
  jid: '20261121023000123456',
  target: '*',
  startedAt: '2026-11-21T02:30:00.000Z',
  finishedAt: '2026-11-21T02:30:05.000Z',
  hosts,
  ...over,
});

describe('drift: host status and exit codes', () => {
  it('classifies hosts: clean only when every state was verified', () => {
    assert.equal(hostDrift(host('a', [st('x', 'clean')])).status, 'clean');
    assert.equal(hostDrift(host('a', [st('x', 'clean'), st('y', 'would_change')])).status, 'drifted');
    assert.equal(hostDrift(host('a', [st('x', 'unknown')])).status, 'unknown');
    assert.equal(hostDrift(host('a', [st('x', 'would_change'), st('y', 'failed')])).status, 'error');
    assert.equal(
      hostDrift(host('a', [], { code: 'HOST_UNREACHABLE', message: 'connect ECONNREFUSED' })).status,
      'unreachable',
    );
    assert.equal(hostDrift(host('a', [], { code: 'STATE_ERROR', message: 'bad' })).status, 'error');
    // A run given up at --timeout is counted with the transport failures, as the exit code table has it.
    assert.equal(
      hostDrift(host('a', [], { code: 'TIMEOUT', message: 'timed out after 5 s' })).status,
      'unreachable',
    );
    // Given up on a signal: not run (as apply records it), shown as not checked, never a clean exit.
    const stopped = hostDrift(host('a', [], { code: 'CANCELLED', message: 'interrupted (SIGINT)' }));
    assert.equal(stopped.status, 'not_run');
    assert.equal(hostLine(stopped), 'not checked: interrupted (SIGINT)');
    assert.equal(driftExitCode({ hosts: [stopped] }), 3);
    // PostgreSQL findings alone make drift (or an error when the probe failed).
    assert.equal(
      hostDrift(host('a', [st('x', 'clean')]), [{ check: 'slot', severity: 'drift', message: 'idle' }])
        .status,
      'drifted',
    );
    assert.equal(
      hostDrift(host('a', [st('x', 'clean')]), [{ check: 'query', severity: 'error', message: 'x' }]).status,
      'error',
    );
    const h = hostDrift(host('a', [st('x', 'clean')]), []);
    assert.equal(h.pgChecked, true);
    assert.equal(hostDrift(host('a', [])).pgChecked, false);
  });

  it('a check refusing a node for its place in the topology is drift (exit 2); any other refusal an error (3)', () => {
    const replica = (over: Partial<StateResult>) =>
      st('replica_built', 'failed', { fn: 'postgres.replica', comment: 'refused: x', ...over });
    const splitBrain = hostDrift(host('a', [st('x', 'clean'), replica({ diverged: 'role' })]), [
      { check: 'role', severity: 'drift', message: 'server is out of recovery: two primaries (split brain)' },
    ]);
    assert.equal(splitBrain.status, 'drifted');
    assert.deepEqual(splitBrain.errors, []);
    assert.deepEqual(
      splitBrain.drifted.map((d) => [d.id, d.diverged]),
      [['replica_built', 'role']],
    );
    assert.equal(driftExitCode(report([splitBrain])), 2);
    assert.match(formatDriftHuman(report([splitBrain])), /^ {6}split brain: a primary .* orch pg rejoin/m);
    const upstream = hostDrift(host('b', [replica({ diverged: 'upstream' })]));
    assert.match(formatDriftHuman(report([upstream])), /^ {6}wrong upstream: .* orch pg follow$/m);
    // The primary does not answer: the check could not be made.
    const noPrimary = hostDrift(
      host('c', [replica({ comment: 'refused: primary db1:5432 does not answer' })]),
    );
    assert.equal(noPrimary.status, 'error');
    assert.equal(driftExitCode(report([splitBrain, noPrimary])), 3);
  });

  it('exit code: 4 aborted, 3 any host not checked (over drift), 2 drift or unknown, else 0', () => {
    const clean = hostDrift(host('a', [st('x', 'clean')]));
    const drifted = hostDrift(host('b', [st('x', 'would_change')]));
    const unknown = hostDrift(host('c', [st('x', 'unknown')]));
    const down = hostDrift(host('d', [], { code: 'AUTH_FAILED', message: 'denied' }));
    const broken = hostDrift(host('e', [st('x', 'failed')]));
    assert.equal(driftExitCode({ hosts: [clean] }), 0);
    assert.equal(driftExitCode({ hosts: [] }), 0);
    assert.equal(driftExitCode({ hosts: [clean, drifted] }), 2);
    assert.equal(driftExitCode({ hosts: [clean, unknown] }), 2);
    assert.equal(driftExitCode({ hosts: [drifted, down] }), 3);
    assert.equal(driftExitCode({ hosts: [drifted, broken] }), 3);
    assert.equal(
      driftExitCode({ hosts: [clean], aborted: { host: 'a', code: 'YAML_ERROR', message: 'x' } }),
      4,
    );
  });
});

// A tiny XML reader, enough to prove the JUnit output is well-formed: balanced tags, quoted attributes, only the
// five predefined entities or character references, no stray '<' or '&'.
interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}
function parseXml(xml: string): El {
  const decode = (s: string) => {
    assert.doesNotMatch(s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, ''), /[&<]/, `unescaped text: ${s}`);
    return s.replace(/&(amp|lt|gt|quot|apos|#(\d+));/g, (_, e: string, n?: string) =>
      n
        ? String.fromCharCode(Number(n))
        : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!,
    );
  };
  let i = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const text = body.slice(i, lt === -1 ? body.length : lt);
    stack[stack.length - 1]!.text += decode(text);
    if (lt === -1) break;
    const gt = body.indexOf('>', lt);
    assert.ok(gt > lt, 'unterminated tag');
    const tag = body.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const top = stack.pop()!;
      assert.equal(top.name, tag.slice(1), 'mismatched closing tag');
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
    assert.ok(m, `malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) attrs[a[1]!] = decode(a[2]!);
    const el: El = { name: m[1]!, attrs, children: [], text: '' };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  assert.equal(stack.length, 1, 'unclosed elements');
  assert.equal(root.children.length, 1, 'one document element');
  return root.children[0]!;
}

describe('drift: report formats', () => {
  const nasty = 'a <b> & "c" \'d\' ]]> \u0001 tail';
  const r = report([
    hostDrift(
      host('db1.example.com', [
        st('motd', 'clean'),
        st('conf', 'would_change', { comment: nasty, diff: '--- a\n+++ b\n-x\n+<y> & z\n' }),
      ]),
    ),
    hostDrift(host('db2.example.com', [st('svc', 'unknown', { fn: 'service.running' })]), [
      { check: 'slot', severity: 'drift', subject: 'r|1', message: 'replication slot r|1 is inactive' },
    ]),
    hostDrift(
      host('db3.example.com', [], { code: 'HOST_UNREACHABLE', message: 'connect ECONNREFUSED 10.0.0.3:22' }),
    ),
  ]);

  it('human: one line per host, then details with diffs and a summary', () => {
    const out = formatDriftHuman(r);
    const lines = out.split('\n');
    assert.equal(lines[0], 'db1.example.com  drifted (1 state)');
    assert.equal(lines[1], 'db2.example.com  postgres drift (1), unknown (1 state)');
    assert.equal(lines[2], 'db3.example.com  unreachable: connect ECONNREFUSED 10.0.0.3:22');
    assert.match(out, /DRIFTED {6}file\.managed conf {2}\[states\/site\.yaml:3\]/);
    assert.match(out, /\n {6}\+<y> & z\n/);
    assert.match(out, /postgres slot: replication slot r\|1 is inactive/);
    assert.match(
      out,
      /Drift 20261121023000123456: 3 host\(s\), 0 clean, 2 drifted \(2 items\), 1 unreachable$/,
    );
    assert.equal(hostLine(hostDrift(host('x', [st('a', 'clean')]))), 'clean (1 state)');
  });

  it('a PostgreSQL warning keeps a host clean, is shown, and is no JUnit failure', () => {
    const warn = {
      check: 'slot' as const,
      severity: 'warning' as const,
      message: 'PostgreSQL 12 cannot bound the WAL its 1 slot(s) keep',
    };
    const h = hostDrift(host('db9.example.com', [st('a', 'clean')]), [warn]);
    assert.equal(h.status, 'clean');
    assert.equal(driftExitCode(report([h])), 0);
    const out = formatDriftHuman(report([h]));
    assert.match(out, /^db9\.example\.com {2}clean \(1 state, postgres ok, 1 warning\(s\)\)$/m);
    assert.match(out, /WARNING {6}postgres slot: PostgreSQL 12 cannot bound/);
    const xml = formatDriftJunit(report([h]));
    assert.doesNotMatch(xml, /<failure/);
    assert.match(xml, /name="postgres slot \(warning: PostgreSQL 12 cannot bound/);
  });

  it('json: the stable schema', () => {
    const parsed = JSON.parse(renderDriftReport(r, 'json')) as DriftReport;
    assert.equal(parsed.jid, r.jid);
    assert.equal(parsed.startedAt, r.startedAt);
    assert.deepEqual(Object.keys(parsed.hosts[0]!).sort(), [
      'clean',
      'cleanStates',
      'drifted',
      'errors',
      'host',
      'ms',
      'pg',
      'pgChecked',
      'status',
      'unknown',
    ]);
    assert.deepEqual(
      parsed.hosts.map((h) => h.status),
      ['drifted', 'drifted', 'unreachable'],
    );
    assert.equal(parsed.hosts[0]!.drifted[0]!.diff, '--- a\n+++ b\n-x\n+<y> & z\n');
  });

  it('junit: valid XML, a suite per host, a case per state, failure/skipped/error, text escaped', () => {
    const doc = parseXml(formatDriftJunit(r));
    assert.equal(doc.name, 'testsuites');
    assert.equal(doc.attrs.tests, '5');
    assert.deepEqual([doc.attrs.failures, doc.attrs.errors, doc.attrs.skipped], ['2', '1', '1']);
    const suites = doc.children;
    assert.deepEqual(
      suites.map((s) => s.attrs.name),
      ['db1.example.com', 'db2.example.com', 'db3.example.com'],
    );
    const db1 = suites[0]!.children;
    assert.deepEqual(
      db1.map((c) => c.attrs.name),
      ['file.managed conf', 'file.managed motd'],
    );
    const failure = db1[0]!.children[0]!;
    assert.equal(failure.name, 'failure');
    // The control character is dropped (not allowed in XML 1.0); everything else round-trips.
    assert.equal(failure.attrs.message, nasty.replace('\u0001', ''));
    assert.ok(failure.text.includes('+<y> & z'));
    assert.equal(db1[1]!.children.length, 0, 'clean state passes');
    assert.deepEqual(
      suites[1]!.children.map((c) => [c.attrs.name, c.children[0]!.name]),
      [
        ['service.running svc', 'skipped'],
        ['postgres slot r|1', 'failure'],
      ],
    );
    const unreachable = suites[2]!.children[0]!;
    assert.deepEqual([unreachable.attrs.name, unreachable.children[0]!.name], ['connect', 'error']);
    assert.equal(xmlEscape('<&>"\''), '&lt;&amp;&gt;&quot;&apos;');
  });

  it('junit: an aborted run is an error suite', () => {
    const doc = parseXml(
      formatDriftJunit(
        report([], {
          aborted: { host: 'db1', code: 'YAML_ERROR', message: 'states/x.yaml:3: bad <indent>' },
        }),
      ),
    );
    assert.equal(doc.children[0]!.children[0]!.children[0]!.attrs.message, 'states/x.yaml:3: bad <indent>');
  });

  it('markdown: a table with escaped cells and fenced diffs', () => {
    const md = formatDriftMarkdown(r);
    const table = md.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(table.length, 5);
    assert.equal(table[0], '| Host | Status | Drifted | Unknown | Errors | PostgreSQL |');
    assert.equal(table[2], '| db1.example.com | drifted (1 state) | 1 | 0 | 0 | – |');
    assert.equal(
      table[3],
      '| db2.example.com | postgres drift (1), unknown (1 state) | 0 | 1 | 0 | 1 finding(s) |',
    );
    for (const row of table) assert.equal(row.replace(/\\\|/g, '').split('|').length, 8, row);
    assert.match(md, /```diff\n--- a\n\+\+\+ b\n-x\n\+<y> & z\n```/);
    assert.equal(mdCell('a|b\nc'), 'a\\|b<br>c');
    assert.equal(mdFence('x ``` y'), '````\nx ``` y\n````');
  });

  it('format names and report-file extensions', () => {
    assert.equal(parseDriftFormat('md'), 'markdown');
    assert.throws(() => parseDriftFormat('yaml'), /unknown format/);
    assert.equal(formatForFile('/tmp/r.xml', 'human'), 'junit');
    assert.equal(formatForFile('/tmp/r.JSON', 'human'), 'json');
    assert.equal(formatForFile('/tmp/r.txt', 'markdown'), 'markdown');
  });
});
