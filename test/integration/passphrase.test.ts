// A passphrase-protected identity through the built CLI against a local sshd: asked once on the terminal (a pty
// made by script(1)) for two hosts using the key, not echoed; without a terminal, one clear error and no wait.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import { CLI } from '../helpers/cli.js';
import { hostFor, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { requireIntegration } from '../helpers/prereqs.js';

const PASS = 'correct horse 42';

describe('passphrase-protected keys, through the CLI', function () {
  this.timeout(60_000);
  let sshd: LocalSshd;
  let tmp: string;

  before(async function () {
    requireIntegration(this, 'the passphrase suite');
    sshd = await startLocalSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-pass-'));
    const key = path.join(tmp, 'locked_key');
    copyFileSync(sshd.clientKey, key);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', PASS, '-f', key]);
    mkdirSync(path.join(tmp, 'inventory'));
    writeFileSync(
      path.join(tmp, 'inventory', 'hosts.yaml'),
      [
        `defaults: { user: root, port: ${sshd.port}, identity: ${key} }`,
        'hosts:',
        '  one: { address: 127.0.0.1 }',
        '  two: { address: 127.0.0.1 }',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(tmp, 'orch.yaml'), 'ssh_config: false\n');
    const kh = new KnownHosts(path.join(tmp, '.orch', 'known_hosts'));
    for (const name of ['one', 'two']) kh.add(hostFor(sshd, { name }), sshd.hostKeyBlob());
  });
  after(async () => {
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete e.SSH_AUTH_SOCK;
    return e;
  };

  it('asks once on the terminal for both hosts, without echoing what is typed', async () => {
    const command = `${process.execPath} ${CLI} -r ${tmp} facts one,two`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: env(), stdio: 'pipe' });
    let out = '';
    let typed = false;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!typed && out.includes('Enter passphrase for')) {
        typed = true;
        child.stdin.write(`${PASS}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, out);
    assert.equal(out.split('Enter passphrase for').length - 1, 1, `one prompt for two hosts:\n${out}`);
    assert.ok(!out.includes(PASS), 'the passphrase is not echoed');
    assert.match(out, /2 host\(s\), 2 ok, 0 failed/);
  });

  it('fails at once with what to do when there is no terminal to ask on', async () => {
    const started = Date.now();
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      // setsid: no controlling terminal, as under cron or CI.
      const child = spawn('setsid', ['-w', process.execPath, CLI, '-r', tmp, 'facts', 'one'], {
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /passphrase-protected and there is no terminal to ask on/);
    assert.match(r.out, /ssh-add/);
    assert.ok(Date.now() - started < 15_000);
  });
});
