// Regression test through the CLI over a real sshd on loopback: what a host prints cannot drive the admin's
// terminal. `orch run` and `orch apply` run under a pseudo-terminal (script(1)); a host's window-title, cursor,
// carriage-return and bidi tricks arrive shown as text, while its colours and orch's own progress line still work.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shQuote } from '../../src/shell/quote.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

const repo = path.resolve(import.meta.dirname, '../..');
// Title change, cursor up two lines, a bare CR that would overwrite "rm -rf" with "ok", a bidi override, and red.
const HOSTILE = String.raw`\033]0;owned\007 up\033[2A cr:rm -rf\rok bidi:\342\200\256txt.exe red:\033[31mR\033[0m`;

describe('security: host output cannot drive the terminal (real sshd on loopback)', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let project = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    project = mkdtempSync(path.join(tmpdir(), 'orch-sec-tty-'));
    for (const d of ['inventory', 'states', 'pillar']) mkdirSync(path.join(project, d));
    writeFileSync(
      path.join(project, 'inventory', 'hosts.yaml'),
      `hosts:\n  here.example.com:\n    address: ${sshd.address}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    identity: ${sshd.clientKey}\n`,
    );
    writeFileSync(path.join(project, 'pillar', 'top.yaml'), "'*': []\n");
    writeFileSync(path.join(project, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(
      path.join(project, 'states', 'site.yaml'),
      `noisy:\n  cmd.run:\n    - name: ${JSON.stringify(`printf '${HOSTILE}\\n'`)}\n`,
    );
    const known = orch(false, 'run', 'here.example.com', '--accept-new-hostkeys', '--', 'true');
    assert.equal(known.code, 0, known.out);
  });

  after(async () => {
    await sshd?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  /** orch with its stdout and stderr on a pseudo-terminal when `tty`, else on pipes. */
  function orch(tty: boolean, ...args: string[]): { code: number | null; out: string } {
    const argv = [
      process.execPath,
      '--import',
      'tsx',
      path.join(repo, 'src/cli/main.ts'),
      '-r',
      project,
      ...args,
    ];
    const env = { PATH: process.env.PATH, HOME: project, XDG_CONFIG_HOME: path.join(project, 'no-config') };
    const r = tty
      ? spawnSync('script', ['-qfec', argv.map(shQuote).join(' '), '/dev/null'], {
          cwd: repo,
          encoding: 'utf8',
          timeout: 90_000,
          env: { ...env, TERM: 'xterm' },
        })
      : spawnSync(argv[0]!, argv.slice(1), { cwd: repo, encoding: 'utf8', timeout: 90_000, env });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  /** Escape sequences other than SGR colours, bare CRs, and bidi controls left in `text`. */
  function liveControls(text: string): string[] {
    const found: string[] = [];
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    for (const m of text.matchAll(/\u001b(?!\[[0-9;:]*m)[^\n]{0,8}/g)) found.push(JSON.stringify(m[0]));
    // The pty turns each \n into \r\n; a CR not followed by LF would still overwrite the line.
    for (const m of text.matchAll(/\r(?!\n)[^\n]{0,8}/g)) found.push(JSON.stringify(m[0]));
    for (const m of text.matchAll(/[\u202a-\u202e\u2066-\u2069]/g)) found.push(JSON.stringify(m[0]));
    return found;
  }

  it('orch run on a terminal shows the host’s controls as text and keeps its colours', () => {
    const r = orch(true, 'run', 'here.example.com', '--', 'printf', `${HOSTILE}\\n`);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(liveControls(r.out), [], r.out);
    assert.match(r.out, /\^\[\]0;owned\^G/);
    assert.match(r.out, /up\^\[\[2A/);
    assert.match(r.out, /cr:rm -rf\^Mok/);
    assert.match(r.out, /bidi:<U\+202E>txt\.exe/);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    assert.match(r.out, /red:\u001b\[31mR\u001b\[0m/);
  });

  it('orch apply on a terminal: the state output is shown as text', () => {
    const r = orch(true, 'apply', 'here.example.com');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\^\[\]0;owned\^G/);
    // orch's own live progress line still clears and redraws (its one allowed sequence besides colours).
    const withoutProgress = r.out.replaceAll('\r\u001b[2K', '');
    assert.deepEqual(liveControls(withoutProgress), [], r.out);
  });

  it('on a pipe the bytes are left as the host sent them (for scripts and files)', () => {
    const r = orch(false, 'run', 'here.example.com', '--', 'printf', `${HOSTILE}\\n`);
    assert.equal(r.code, 0, r.out);
    assert.ok(r.out.includes('\u001b]0;owned\u0007'), JSON.stringify(r.out));
  });
});
