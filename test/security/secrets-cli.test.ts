// Regression tests through the CLI over a real sshd on loopback: `orch apply` with a `!secret` in a state name
// (human and JSON output, the job record), `orch render` failing in a filter next to a secret (the top-level
// error printer), and `orch run` printing a file that holds a project secret (output and job record).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../src/secrets/crypto.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';
import { newKey, type Key } from '../unit/secrets/helpers.js';

const repo = path.resolve(import.meta.dirname, '../..');
const MASK = '********';

describe('security: secrets through the CLI (real sshd on loopback)', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let project = '';
  let key: Key;
  const secret = `Repl-${process.pid}-pw&<x>'`;

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    key = await newKey();
    project = mkdtempSync(path.join(tmpdir(), 'orch-sec-cli-'));
    for (const d of ['inventory', 'states', 'pillar', 'templates']) mkdirSync(path.join(project, d));
    writeFileSync(
      path.join(project, 'inventory', 'hosts.yaml'),
      `hosts:\n  here.example.com:\n    address: ${sshd.address}\n    port: ${sshd.port}\n    user: ${sshd.user}\n    identity: ${sshd.clientKey}\n`,
    );
    writeFileSync(path.join(project, 'pillar', '.recipients'), `${key.recipient}\n`);
    writeFileSync(path.join(project, 'pillar', 'top.yaml'), "'*': [db]\n");
    writeFileSync(
      path.join(project, 'pillar', 'db.yaml'),
      `db:\n  password: !secret ${await encryptValue(secret, [key.recipient])}\n`,
    );
    writeFileSync(path.join(project, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(
      path.join(project, 'states', 'site.yaml'),
      'use_pw:\n  cmd.run:\n    - name: >-\n        test -n {{ pillar.db.password | sh }}\n',
    );
    writeFileSync(
      path.join(project, 'states', 'broken.yaml'),
      "f:\n  file.managed:\n    - name: /tmp/x\n    - mode: '{{ pillar.db.password | mode }}'\n",
    );
    writeFileSync(path.join(project, 'leaked.conf'), `password = ${secret}\n`);
    const known = orch('run', 'here.example.com', '--accept-new-hostkeys', '--', 'true');
    assert.equal(known.code, 0, known.stderr);
  });

  after(async () => {
    await sshd?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  function orch(...args: string[]) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), '-r', project, ...args],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 90_000,
        env: {
          PATH: process.env.PATH,
          HOME: project,
          NO_COLOR: '1',
          XDG_CONFIG_HOME: path.join(project, 'no-config'),
          ORCH_AGE_IDENTITY: key.identity,
        },
      },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Everything the job store holds on disk, as text. */
  function jobStoreBytes(): string {
    const base = path.join(project, '.orch', 'jobs.sqlite');
    return ['', '-wal']
      .map((s) => (existsSync(base + s) ? readFileSync(base + s).toString('latin1') : ''))
      .join('');
  }

  function assertNoSecret(where: string, text: string) {
    for (const form of [secret, secret.slice(0, 10), Buffer.from(secret).toString('hex')])
      assert.ok(!text.includes(form), `${where} shows ${JSON.stringify(form)}:\n${text}`);
  }

  it('orch apply: a secret in a state name is masked in the header, the JSON and the job record', () => {
    const human = orch('apply', 'here.example.com', '--no-progress');
    assert.equal(human.code, 0, human.stdout + human.stderr);
    assert.ok(human.stdout.includes(`cmd.run use_pw (test -n '${MASK}')`), human.stdout);
    assertNoSecret('human output', human.stdout + human.stderr);

    const json = orch('-o', 'json', 'apply', 'here.example.com');
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { hosts: { states: { name: string }[] }[] };
    assert.equal(report.hosts[0]!.states[0]!.name, `test -n '${MASK}'`);
    assertNoSecret('JSON output', json.stdout + json.stderr);
    assertNoSecret('job store', jobStoreBytes());
  });

  it('orch render: a filter error next to a secret is printed masked', () => {
    const r = orch('render', 'here.example.com', 'broken');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mode filter/);
    assert.ok(r.stderr.includes(MASK), r.stderr);
    assertNoSecret('render error', r.stdout + r.stderr);
  });

  it('orch run: output quoting a project secret is masked, human, JSON and in the job record', () => {
    const file = path.join(project, 'leaked.conf');
    const human = orch('run', 'here.example.com', '--', 'cat', file);
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.includes(`password = ${MASK}`), human.stdout);
    assertNoSecret('run output', human.stdout + human.stderr);
    const json = orch('-o', 'json', 'run', 'here.example.com', '--', 'cat', file);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(
      (JSON.parse(json.stdout) as { hosts: { stdout: string }[] }).hosts[0]!.stdout,
      `password = ${MASK}\n`,
    );
    assertNoSecret('job store', jobStoreBytes());
  });

  it('orch run without an identity still runs (nothing is decrypted, nothing said)', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repo, 'src/cli/main.ts'),
        '-r',
        project,
        'run',
        'here.example.com',
        '--',
        'echo',
        'ok',
      ],
      {
        cwd: repo,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: project, XDG_CONFIG_HOME: path.join(project, 'none') },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok$/m);
    assert.equal(r.stderr, '');
  });
});
