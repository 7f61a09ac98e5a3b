// Targeting through the built CLI: `orch hosts` with exclusion, intersection, vars and facts (human and JSON),
// --limit, facts terms in the top file, option values refused with exit 4, and the command words of `orch run`
// kept away from orch's own options (`uname -r` is not --root). Hosts are names for one loopback sshd, so facts are
// gathered for real without the lab.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../helpers/cli.js';
import { canRunLocalSshd, startLocalSshd, type LocalSshd } from '../helpers/local-sshd.js';

interface HostsJson {
  target: string;
  hosts: { name: string; groups: string[]; facts?: { os: string } }[];
  factsGathered: string[];
}

function project(sshd: { port: number; key: string }): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-cli-targeting-'));
  for (const d of ['inventory', 'states']) mkdirSync(path.join(root, d));
  const host = (groups: string, vars = '{}') =>
    `{ address: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${sshd.key}, groups: [${groups}], vars: ${vars} }`;
  writeFileSync(
    path.join(root, 'inventory', 'hosts.yaml'),
    [
      'hosts:',
      `  db1.example.com: ${host('db', '{ pg_role: primary }')}`,
      `  db2.example.com: ${host('db', '{ pg_role: standby }')}`,
      `  db3.example.com: ${host('db', '{ pg_role: standby }')}`,
      `  web1.example.com: ${host('web')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(root, 'states', 'top.yaml'),
    "'group:db&kernel=Linux&!db3*': [linux]\n'kernel=FreeBSD': [bsd]\n",
  );
  const state = (id: string) => `${id}:\n  cmd.run:\n    - name: 'true'\n    - unless: 'true'\n`;
  writeFileSync(path.join(root, 'states', 'linux.yaml'), state('linux-state'));
  writeFileSync(path.join(root, 'states', 'bsd.yaml'), state('bsd-state'));
  return root;
}

describe('orch CLI: targeting', function () {
  this.timeout(120_000);
  let sshd: LocalSshd | undefined;
  let root = '';
  const orch = (...args: string[]) => runOrch(['-r', root, ...args]);

  before(async function () {
    if (canRunLocalSshd()) sshd = await startLocalSshd();
    root = project(sshd ? { port: sshd.port, key: sshd.clientKey } : { port: 1, key: '/nonexistent' });
  });
  after(async () => {
    await sshd?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lists the hosts of an exclusion and intersection, human and JSON', async () => {
    const r = await orch('hosts', 'group:db&!db3*');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HOST\s+ADDRESS\s+USER\s+GROUPS\n/);
    assert.match(r.stdout, /^db1\.example\.com\s+127\.0\.0\.1:\d+\s+root\s+db$/m);
    assert.doesNotMatch(r.stdout, /db3|web1/);
    assert.match(r.stdout, /\n2 host\(s\)\n$/);
    const j = parseJson<HostsJson>(await orch('-o', 'json', 'hosts', 'pg_role=standby,web*'));
    assert.deepEqual(
      j.hosts.map((h) => h.name),
      ['db2.example.com', 'db3.example.com', 'web1.example.com'],
    );
    assert.deepEqual(j.factsGathered, [], 'vars and names never need facts');
  });

  it('narrows with --limit and refuses a limit that leaves nothing', async () => {
    const r = parseJson<HostsJson>(await orch('hosts', '*', '--limit', 'group:db&!db1*', '-o', 'json'));
    assert.deepEqual(
      r.hosts.map((h) => h.name),
      ['db2.example.com', 'db3.example.com'],
    );
    const none = await orch('hosts', 'group:web', '--limit', 'group:db');
    assert.equal(none.code, 4);
    assert.match(none.stderr, /no host of 'group:web' is in --limit 'group:db'/);
    const typo = await orch('hosts', '*&!db9.example.com');
    assert.equal(typo.code, 4);
    assert.match(typo.stderr, /no host named 'db9\.example\.com' in the inventory/);
  });

  it('refuses bad numbers and unknown output formats with exit 4 and a clear message', async () => {
    const j = await orch('-j', 'abc', 'hosts');
    assert.equal(j.code, 4);
    assert.match(j.stderr, /option '-j, --parallel <n>' argument 'abc' is invalid\. expected a whole number/);
    const zero = await orch('-j', '0', 'hosts');
    assert.equal(zero.code, 4);
    const y = await orch('-o', 'yaml', 'hosts');
    assert.equal(y.code, 4);
    assert.match(y.stderr, /argument 'yaml' is invalid\. Allowed choices are human, json/);
    assert.equal(y.stdout, '');
    const t = await orch('run', 'db1.example.com', '--timeout', 'x', 'true');
    assert.equal(t.code, 4);
    assert.match(t.stderr, /--timeout wants a positive number of seconds, got 'x'/);
  });

  it('gathers facts only from the hosts the inventory leaves undecided', async function () {
    if (!sshd) this.skip();
    const r = await orch('-o', 'json', 'hosts', 'group:web,kernel=Linux&!db2*', '--accept-new-hostkeys');
    const j = parseJson<HostsJson>(r);
    // web1 is in by its group, db2 out by its name: only db1 and db3 need a facts exec.
    assert.deepEqual(j.factsGathered, ['db1.example.com', 'db3.example.com']);
    assert.deepEqual(
      j.hosts.map((h) => h.name),
      ['db1.example.com', 'db3.example.com', 'web1.example.com'],
    );
    assert.equal(j.hosts[0]!.facts?.os, 'Debian');
    const none = await orch('hosts', 'os=FreeBSD');
    assert.equal(none.code, 4);
    assert.match(none.stderr, /target 'os=FreeBSD' matches no host/);
  });

  it('matches facts terms in the top file with the host facts of the run', async function () {
    if (!sshd) this.skip();
    const db1 = await orch('render', 'db1.example.com');
    assert.equal(db1.code, 0, db1.stderr);
    assert.match(db1.stdout, /cmd\.run linux-state/);
    assert.doesNotMatch(db1.stdout, /bsd-state/);
    const db3 = await orch('render', 'db3.example.com');
    assert.equal(db3.code, 0, db3.stderr);
    assert.doesNotMatch(db3.stdout, /linux-state|bsd-state/);
  });

  it('passes options after the command words to the command: `uname -r` is not --root', async function () {
    if (!sshd) this.skip();
    const r = await orch('run', 'db1.example.com', 'uname', '-r');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(os.release()), r.stdout);
    // options before the first command word are still orch's
    const j = parseJson<{ hosts: { host: string; exitCode: number; stderr: string }[] }>(
      await orch('run', '--limit', 'db2*', 'group:db', '-o', 'json', 'uname', '-r', '-j'),
    );
    assert.deepEqual(
      j.hosts.map((h) => h.host),
      ['db2.example.com'],
    );
    // `-j` after the command words reached uname, which refuses it (it was not taken as orch's --parallel)
    assert.notEqual(j.hosts[0]!.exitCode, 0);
    assert.match(j.hosts[0]!.stderr, /invalid option -- 'j'/);
  });
});
