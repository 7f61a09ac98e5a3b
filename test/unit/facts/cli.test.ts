import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { factsExitCode, factsJson, factsText } from '../../../src/cli/verbs/facts.js';
import { HostUnreachableError, OrchError } from '../../../src/errors.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import type { HostOutcome } from '../../../src/transport/fleet.js';
import { canRunLocalSshd, freePort, startLocalSshd, type LocalSshd } from '../../helpers/local-sshd.js';
import { fixture } from './fixtures.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const stats = { connections: 1, execs: 1 };

function hostSpec(name: string): HostSpec {
  return { name, address: name, port: 22, user: 'root', groups: [], vars: {}, source: { file: 'test' } };
}

const good: HostOutcome<Facts> = {
  host: hostSpec('primary.example.com'),
  ok: true,
  value: parseFacts(fixture('debian12-pg15-running.txt')),
  stats,
  ms: 12,
};
const down: HostOutcome<Facts> = {
  host: hostSpec('gone.example.com'),
  ok: false,
  error: new HostUnreachableError('gone.example.com', 'gone.example.com: connection refused'),
  stats: { connections: 0, execs: 0 },
  ms: 3,
};
const broken: HostOutcome<Facts> = {
  host: hostSpec('nosh.example.com'),
  ok: false,
  error: new OrchError('COMMAND_FAILED', 'nosh.example.com: facts probe produced no output'),
  stats,
  ms: 5,
};

describe('orch facts: output and exit codes', () => {
  it('prints a compact block per host and errors per host', async () => {
    const text = await factsText([good, down]);
    assert.match(text, /^primary\.example\.com\n {2}os: +Debian \/ debian 12 \(x86_64\)\n/);
    assert.match(
      text,
      /\n {2}postgres: 15 \(user postgres, socket \/var\/run\/postgresql\)\n {4}15\/main {2}port 5432 {2}running {2}data \/var\/lib\/postgresql\/15\/main\n/,
    );
    assert.match(
      text,
      /\ngone\.example\.com\n {2}error: +HOST_UNREACHABLE: gone\.example\.com: connection refused\n/,
    );
    assert.match(text, /2 host\(s\), 1 ok, 1 failed\n$/);
  });

  it('gives the JSON shape { hosts: [{ host, ok, facts?, error? }] }', () => {
    assert.deepEqual(factsJson([good, down]), {
      hosts: [
        { host: 'primary.example.com', ok: true, facts: good.ok ? good.value : undefined },
        {
          host: 'gone.example.com',
          ok: false,
          error: { code: 'HOST_UNREACHABLE', message: 'gone.example.com: connection refused' },
        },
      ],
    });
  });

  it('exits 3 when any host could not be reached, 1 when a probe failed, 0 otherwise', () => {
    assert.equal(factsExitCode([good]), 0);
    assert.equal(factsExitCode([good, broken]), 1);
    assert.equal(factsExitCode([broken, down, good]), 3);
  });
});

describe('orch facts: end to end over a real sshd on loopback', function () {
  let sshd: LocalSshd | undefined;
  let project = '';

  before(async function () {
    if (!canRunLocalSshd()) this.skip();
    sshd = await startLocalSshd();
    project = mkdtempSync(path.join(tmpdir(), 'orch-facts-cli-'));
    mkdirSync(path.join(project, 'inventory'));
    const closed = await freePort();
    writeFileSync(
      path.join(project, 'inventory', 'hosts.yaml'),
      [
        'hosts:',
        '  here.example.com:',
        `    address: ${sshd.address}`,
        `    port: ${sshd.port}`,
        `    user: ${sshd.user}`,
        `    identity: ${sshd.clientKey}`,
        '  closed.example.com:',
        '    address: 127.0.0.1',
        `    port: ${closed}`,
        `    identity: ${sshd.clientKey}`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await sshd?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  function orch(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync('npx', ['tsx', path.join(repo, 'src/cli/main.ts'), '-r', project, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('gathers facts of the reachable host and exits 3 for the closed port (-o json)', () => {
    const r = orch('-o', 'json', 'facts', '*.example.com', '--accept-new-hostkeys');
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout) as {
      hosts: { host: string; ok: boolean; facts?: Facts; error?: { code: string } }[];
    };
    assert.deepEqual(
      out.hosts.map((h) => [h.host, h.ok]),
      [
        ['here.example.com', true],
        ['closed.example.com', false],
      ],
    );
    const facts = out.hosts[0]!.facts!;
    assert.equal(facts.osFamily, 'Debian');
    assert.equal(facts.pkgTool, 'apt');
    assert.ok(facts.postgres.clusters.some((c) => c.version === '15' && c.name === 'main'));
    assert.equal(out.hosts[1]!.error!.code, 'HOST_UNREACHABLE');
  });

  it('prints the human block and exits 0 when every host answers', () => {
    const r = orch('facts', 'here.example.com');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^here\.example\.com\n {2}os: +Debian \/ debian 12/);
    assert.match(r.stdout, /15\/main {2}port 5432 {2}down/);
  });
});
