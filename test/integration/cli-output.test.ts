// Output through the built CLI, against one loopback sshd (check mode only: nothing is written): --state-output,
// long diffs folded with a count and --diff full, colour by TTY / NO_COLOR / FORCE_COLOR, usage and config errors
// as one JSON object under -o json, -o yaml refused, orch.yaml typos refused with file and line, and
// `orch jobs lookup` of a drift job printed as `orch drift show` prints it.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../helpers/cli.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

const ESC = '\u001b[';

describe('orch CLI: output', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let root = '';
  const orch = (args: string[], env: NodeJS.ProcessEnv = {}) => runOrch(['-r', root, ...args], { env });

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-cli-output-'));
    for (const d of ['inventory', 'states']) mkdirSync(path.join(root, d));
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `hosts:\n  out.example.com: { address: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${sshd.clientKey} }\n`,
    );
    writeFileSync(path.join(root, 'states/top.yaml'), "'*': [site]\n");
    const long = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`).join('\\n');
    writeFileSync(
      path.join(root, 'states/site.yaml'),
      [
        'clean_one:',
        '  cmd.run:',
        "    - name: 'true'",
        "    - unless: 'true'",
        `${root}/never/long.conf:`,
        '  file.managed:',
        `    - contents: "${long}\\n"`,
        '    - makedirs: true',
        '',
      ].join('\n'),
    );
    const first = await orch(['apply', '*', '--test', '--accept-new-hostkeys', '--no-progress']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
  });
  after(async () => {
    await sshd?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('folds a long diff with a count; --diff full and --diff N choose how much', async () => {
    const folded = await orch(['apply', '*', '--test']);
    const left = Number(/\.\.\. (\d+) more diff lines \(--diff full shows them\)/.exec(folded.stdout)?.[1]);
    assert.ok(left > 0, folded.stdout);
    assert.doesNotMatch(folded.stdout, /\+line 60\n/);
    const whole = await orch(['apply', '*', '--test', '--diff', 'full']);
    assert.match(whole.stdout, /\+line 60\n/);
    assert.doesNotMatch(whole.stdout, /more diff lines/);
    const short = await orch(['apply', '*', '--test', '--diff', '5']);
    assert.doesNotMatch(short.stdout, /\+line 3\n/);
    assert.match(short.stdout, new RegExp(`\\.\\.\\. ${left + 35} more diff lines`), 'default 40, here 5');
    assert.equal((await orch(['apply', '*', '--test', '--diff', 'lots'])).code, 4);
  });

  it('--state-output terse is one line per state; changes leaves out the clean ones even with -v', async () => {
    const terse = await orch(['apply', '*', '--test', '--state-output', 'terse', '-v']);
    assert.match(terse.stdout, /CLEAN\s+cmd\.run clean_one \(true\): guard says no/);
    assert.match(terse.stdout, /WOULD_CHANGE\s+file\.managed \S+long\.conf: /);
    assert.doesNotMatch(terse.stdout, /\+line 1\n/);
    const changes = await orch(['apply', '*', '--test', '--state-output', 'changes', '-v']);
    assert.doesNotMatch(changes.stdout, /clean_one/);
    assert.match(changes.stdout, /\+line 1\n/);
    const bad = await orch(['apply', '*', '--test', '--state-output', 'mixed']);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /Allowed choices are full, changes, terse/);
  });

  it('colours only when asked: FORCE_COLOR in a pipe, never with NO_COLOR alone', async () => {
    const plain = await orch(['apply', '*', '--test']);
    assert.ok(!plain.stdout.includes(ESC), 'NO_COLOR (set by the test helper) and a pipe: no colour');
    const forced = await orch(['apply', '*', '--test'], { FORCE_COLOR: '1' });
    assert.ok(forced.stdout.includes(`${ESC}33mWOULD_CHANGE`), forced.stdout);
    const off = await orch(['apply', '*', '--test'], { FORCE_COLOR: '0', NO_COLOR: '' });
    assert.ok(!off.stdout.includes(ESC));
  });

  it('prints usage errors as one JSON object under -o json, and refuses -o yaml', async () => {
    for (const args of [
      ['-o', 'json', 'apply'],
      ['-o', 'json', 'apply', '*', '--batch', 'x'],
      ['-o', 'json', 'no-such-verb'],
    ]) {
      const r = await orch(args);
      assert.equal(r.code, 4, args.join(' '));
      const j = parseJson<{ errors: { code: string; message: string }[] }>(r);
      assert.equal(j.errors.length, 1);
      assert.equal(j.errors[0]!.code, 'BAD_INPUT');
      assert.doesNotMatch(j.errors[0]!.message, /^error:/);
      assert.equal(r.stderr, '', 'nothing besides the JSON');
    }
    const yaml = await orch(['-o', 'yaml', 'hosts', '*']);
    assert.equal(yaml.code, 4);
    assert.equal(yaml.stdout, '');
    assert.match(yaml.stderr, /argument 'yaml' is invalid. Allowed choices are human, json/);
  });

  it('refuses unknown orch.yaml keys with file and line, as JSON too', async () => {
    writeFileSync(path.join(root, 'orch.yaml'), 'parallel: 4\njobs:\n  lease: 2s\n  retension: 3d\n');
    try {
      const r = await orch(['hosts', '*']);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /orch\.yaml:4: jobs\.retension: unknown key \(known: store, lease, retention/);
      const j = parseJson<{ errors: { code: string; file: string; line: number }[] }>(
        await orch(['-o', 'json', 'hosts', '*']),
      );
      assert.deepEqual(
        { code: j.errors[0]!.code, file: j.errors[0]!.file, line: j.errors[0]!.line },
        { code: 'CONFIG_ERROR', file: 'orch.yaml', line: 4 },
      );
      writeFileSync(path.join(root, 'orch.yaml'), 'paralel: 4\n');
      const top = await orch(['hosts', '*']);
      assert.match(top.stderr, /orch\.yaml:1: paralel: unknown key/);
      writeFileSync(path.join(root, 'orch.yaml'), 'parallel: many\n');
      assert.match((await orch(['hosts', '*'])).stderr, /orch\.yaml:1: parallel: /);
    } finally {
      rmSync(path.join(root, 'orch.yaml'));
    }
  });

  it('jobs lookup of a drift job reads like orch drift show', async () => {
    const drift = await orch(['-o', 'json', 'drift', '*']);
    assert.equal(drift.code, 2, drift.stderr);
    const jid = parseJson<{ jid: string }>(drift).jid;
    const show = await orch(['drift', 'show', jid]);
    const lookup = await orch(['jobs', 'lookup', jid]);
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.match(lookup.stdout, new RegExp(`^job ${jid}|${jid}`));
    assert.ok(lookup.stdout.endsWith(show.stdout), `${lookup.stdout}\n---\n${show.stdout}`);
    assert.match(lookup.stdout, /out\.example\.com +drifted \(1 state\)/);
    assert.doesNotMatch(lookup.stdout, /"status":/, 'no raw JSON');
    const coloured = await orch(['drift', 'show', jid], { FORCE_COLOR: '1' });
    assert.ok(coloured.stdout.includes(`${ESC}33mdrifted (1 state)`), coloured.stdout);
    const file = path.join(root, 'report.txt');
    await orch(['drift', '*', '--report-file', file], { FORCE_COLOR: '1' });
    assert.ok(!readFileSync(file, 'utf8').includes(ESC), 'a report file gets no colour codes');
  });
});
