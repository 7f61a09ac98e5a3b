// The foundation on real lab hosts: `orch run` and `orch facts` on two hosts, and each transport failure reported
// per host while the others go on: unreachable, unknown host key, changed host key, failed authentication.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { labDown, labUp, recreateHost, type LabHost } from '../../src/lab/index.js';
import { parseJson, runOrch } from '../helpers/cli.js';

interface RunJson {
  hosts: {
    host: string;
    ok: boolean;
    exitCode?: number;
    stdout?: string;
    error?: { code: string; message: string };
  }[];
}
interface FactsJson {
  hosts: {
    host: string;
    ok: boolean;
    facts?: { osFamily: string; hostname: string; postgres: { versions: string[] } };
  }[];
}

describe('foundation on lab hosts', function () {
  this.timeout(300_000);
  let root: string;
  let hosts: LabHost[];
  const orch = (...args: string[]) => runOrch(['--root', root, ...args]);
  const byHost = (r: RunJson, name: string) => r.hosts.find((h) => h.host === name)!;

  function writeInventory(extra = ''): void {
    const lines = hosts.map((h) => `  ${h.name}:\n    address: ${h.ip}\n`).join('');
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n${lines}${extra}`,
    );
  }

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-foundation-it-'));
    mkdirSync(path.join(root, 'inventory'));
    hosts = await labUp(['fnd1', 'fnd2'], { project: loadProject({ root }) });
    writeInventory();
  });

  after(async () => {
    await labDown(
      hosts.map((h) => h.name),
      { project: loadProject({ root }) },
    );
    rmSync(root, { recursive: true, force: true });
  });

  it("`orch run '*' -- hostname` prints each host's own hostname", async () => {
    const r = await orch('-o', 'json', 'run', '*', '--', 'hostname');
    assert.equal(r.code, 0, r.stderr);
    const json = parseJson<RunJson>(r);
    for (const h of hosts) assert.equal(byHost(json, h.name).stdout!.trim(), h.name);
    const human = await orch('run', '*', '--', 'hostname');
    for (const h of hosts) assert.match(human.stdout, new RegExp(`^${h.name.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('gathers facts from lab hosts', async () => {
    const r = await orch('-o', 'json', 'facts', '*');
    assert.equal(r.code, 0, r.stderr);
    for (const h of parseJson<FactsJson>(r).hosts) {
      assert.equal(h.facts!.osFamily, 'Debian');
      assert.equal(h.facts!.hostname, h.host);
      assert.ok(h.facts!.postgres.versions.includes('15'));
    }
  });

  it('runs through sudo as a non-root user with --become', async () => {
    writeInventory(`  deploy-${hosts[0]!.name}:\n    address: ${hosts[0]!.ip}\n    user: deploy\n`);
    try {
      const r = await orch('-o', 'json', 'run', `deploy-${hosts[0]!.name}`, '--become', '--', 'id', '-u');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseJson<RunJson>(r).hosts[0]!.stdout!.trim(), '0');
    } finally {
      writeInventory();
    }
  });

  it('reports an unreachable host while the others succeed', async () => {
    writeInventory('  gone.example.com:\n    address: 10.213.0.251\n');
    try {
      const r = await orch('-o', 'json', 'run', '*', '--accept-new-hostkeys', '--', 'true');
      assert.equal(r.code, 3);
      const json = parseJson<RunJson>(r);
      assert.equal(byHost(json, 'gone.example.com').error!.code, 'HOST_UNREACHABLE');
      for (const h of hosts) assert.equal(byHost(json, h.name).ok, true);
    } finally {
      writeInventory();
    }
  });

  it('reports failed authentication for a wrong user while the others succeed', async () => {
    writeInventory(`  nobody-${hosts[0]!.name}:\n    address: ${hosts[0]!.ip}\n    user: nobody\n`);
    try {
      const r = await orch('-o', 'json', 'run', '*', '--', 'true');
      assert.equal(r.code, 3);
      const json = parseJson<RunJson>(r);
      assert.equal(byHost(json, `nobody-${hosts[0]!.name}`).error!.code, 'AUTH_FAILED');
      for (const h of hosts) assert.equal(byHost(json, h.name).ok, true);
    } finally {
      writeInventory();
    }
  });

  it('refuses an unknown host key before running anything, and records it only when asked', async () => {
    const [h] = hosts as [LabHost];
    const forget = await orch('hostkeys', 'forget', h.name);
    assert.equal(forget.code, 0, forget.stderr);
    const refused = await orch('-o', 'json', 'run', h.name, '--', 'touch', '/tmp/should-not-exist');
    assert.equal(refused.code, 3);
    assert.equal(parseJson<RunJson>(refused).hosts[0]!.error!.code, 'HOST_KEY_UNKNOWN');
    const accepted = await orch('-o', 'json', 'run', h.name, '--accept-new-hostkeys', '--', 'ls', '/tmp');
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.doesNotMatch(parseJson<RunJson>(accepted).hosts[0]!.stdout!, /should-not-exist/);
  });

  it('refuses a changed host key (a rebuilt host) even with --accept-new-hostkeys, other hosts go on', async () => {
    const [a, b] = hosts as [LabHost, LabHost];
    await recreateHost(a.name, { updateKnownHosts: false, project: loadProject({ root }) });
    const r = await orch('-o', 'json', 'run', '*', '--accept-new-hostkeys', '--', 'true');
    assert.equal(r.code, 3);
    const json = parseJson<RunJson>(r);
    assert.equal(byHost(json, a.name).error!.code, 'HOST_KEY_CHANGED');
    assert.match(byHost(json, a.name).error!.message, /SHA256:/);
    assert.equal(byHost(json, b.name).ok, true);
  });
});
