// How `orch` reports errors, end to end: a malformed top-file target aborts `orch apply` with exit 4 naming the
// file (it exited 1 with no file), all of a host's compile errors at once in human and JSON output, --debug
// with the code, cause chain and stack, and an error escaping a verb as one line plus a hint, or JSON.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '../../../src/errors/codes.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../../helpers/local-sshd.js';

const repo = path.resolve(import.meta.dirname, '../../..');

function makeProject(hostLines: string[]): string {
  const project = mkdtempSync(path.join(tmpdir(), 'orch-errors-cli-'));
  for (const d of ['inventory', 'states', 'pillar', 'templates']) mkdirSync(path.join(project, d));
  writeFileSync(path.join(project, 'inventory', 'hosts.yaml'), ['hosts:', ...hostLines, ''].join('\n'));
  return project;
}

function orch(project: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', path.join(repo, 'src/cli/main.ts'), '-r', project, ...args], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('orch error output: an error escaping a verb', function () {
  this.timeout(60_000);
  let project = '';
  before(() => (project = makeProject(['  db1.example.com:', '    address: 127.0.0.1'])));
  after(() => rmSync(project, { recursive: true, force: true }));

  it('prints one line and the hint of its code, and exits by the table', () => {
    const r = orch(project, 'apply', 'nosuch.example.com', '--no-progress');
    assert.equal(r.code, 4, r.stderr);
    assert.equal(
      r.stderr,
      `orch: no host named 'nosuch.example.com' in the inventory\norch: hint: ${ERROR_CODES.UNKNOWN_TARGET.hint}\n`,
    );
  });

  it('with -o json prints the errors as JSON on stdout', () => {
    const r = orch(project, '-o', 'json', 'apply', 'a,,b', '--no-progress');
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      errors: [
        {
          code: 'UNKNOWN_TARGET',
          message: "empty target term in 'a,,b'",
          hint: ERROR_CODES.UNKNOWN_TARGET.hint,
        },
      ],
    });
    assert.equal(r.stderr, '');
  });

  it('with --debug prints the code and the stack', () => {
    const r = orch(project, '--debug', 'apply', 'nosuch.example.com', '--no-progress');
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /^orch: \[UNKNOWN_TARGET\] no host named 'nosuch\.example\.com' in the inventory\norch: {3}stack:\norch: {5}at /,
    );
    assert.match(r.stderr, /src\/inventory\/target\.ts/);
    assert.match(r.stderr, /orch: hint: /);
  });
});

describe('orch error output: compile errors of `orch apply` over a real sshd on loopback', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let project = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    project = makeProject([
      '  here.example.com:',
      `    address: ${sshd.address}`,
      `    port: ${sshd.port}`,
      `    user: ${sshd.user}`,
      `    identity: ${sshd.clientKey}`,
    ]);
  });
  after(async () => {
    await sshd?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const write = (file: string, text: string) => writeFileSync(path.join(project, 'states', file), text);

  it("a top-file key like 'here.example.com,,x' aborts with exit 4, naming the file and line", () => {
    write('top.yaml', "'here.example.com,,x': [site]\n");
    write('site.yaml', 'motd:\n  cmd.run:\n    - name: "true"\n');
    const r = orch(project, 'apply', 'here.example.com', '--accept-new-hostkeys', '--no-progress');
    assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stdout,
      /^Aborted before any host was changed: here\.example\.com: states\/top\.yaml:1: top-file target: empty target term in 'here\.example\.com,,x'/,
    );
    assert.match(
      r.stdout,
      new RegExp(`^hint: ${ERROR_CODES.UNKNOWN_TARGET.hint.replace(/[.*()[\]?]/g, '\\$&')}$`, 'm'),
    );
  });

  it('reports all errors of the host at once, in human and JSON output; --debug adds code and stack', () => {
    write('top.yaml', "'*': [site]\n");
    write(
      'site.yaml',
      [
        'one:',
        '  file.managed:',
        '    - name: relative/path',
        '    - contents: x',
        'two:',
        '  file.nonsense:',
        '    - name: /tmp/x',
        '',
      ].join('\n'),
    );
    const human = orch(project, 'apply', 'here.example.com', '--test', '--no-progress');
    assert.equal(human.code, 4, `${human.stdout}\n${human.stderr}`);
    assert.match(
      human.stdout,
      /^Aborted before any host was changed: here\.example\.com: 2 errors:\n {2}states\/site\.yaml:2: state 'one'.*\[host here\.example\.com\]\n {2}states\/site\.yaml:6: state 'two'.*\[host here\.example\.com\]\n/,
    );

    const json = orch(project, '-o', 'json', 'apply', 'here.example.com', '--test', '--no-progress');
    assert.equal(json.code, 4);
    const report = JSON.parse(json.stdout) as {
      aborted: { code: string; errors: Record<string, unknown>[] };
    };
    assert.equal(report.aborted.code, 'STATE_ERROR');
    assert.deepEqual(
      report.aborted.errors.map((e) => [e.code, e.file, e.line, e.state, e.host]),
      [
        ['STATE_ERROR', 'states/site.yaml', 2, 'one', 'here.example.com'],
        ['STATE_ERROR', 'states/site.yaml', 6, 'two', 'here.example.com'],
      ],
    );

    const debug = orch(project, '--debug', 'apply', 'here.example.com', '--test', '--no-progress');
    assert.equal(debug.code, 4);
    assert.match(
      debug.stderr,
      /^orch: debug: host here\.example\.com:\n {2}\[STATE_ERROR\] states\/site\.yaml:2: state 'one'/m,
    );
    assert.match(debug.stderr, /^ {4}stack:\n {6}at /m);
  });
});
