// Become by doas(1) on a lab host through the built CLI: the host's /etc/doas.conf (on the host's own overlay)
// permits root, without a password, as `nobody` only. A named user and a numeric uid (doas takes the uid as it is,
// where sudo needs `#uid`) both run as that account; a user doas.conf does not permit fails for that host at once
// (`-n`: no prompt to hang on) and runs nothing.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { execInHost, labDown, labUp, type LabHost } from '../../src/lab/index.js';
import { parseJson, runOrch } from '../helpers/cli.js';

interface RunJson {
  hosts: { host: string; ok: boolean; stdout?: string; stderr?: string; exitCode?: number }[];
}

describe('become by doas on a lab host', function () {
  this.timeout(300_000);
  let root: string;
  let host: LabHost;
  const orch = (...args: string[]) => runOrch(['--root', root, ...args]);
  const inHost = async (script: string) =>
    (await execInHost(host.name, ['/bin/sh', '-c', script], { timeoutMs: 30_000 })).stdout.trim();

  /** The inventory: the host under one alias per become user, all by doas. */
  function writeInventory(users: readonly string[]): void {
    const entries = users
      .map((u) => `  doas-${u}:\n    address: ${host.ip}\n    become: { method: doas, user: '${u}' }\n`)
      .join('');
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n  ${host.name}:\n    address: ${host.ip}\n${entries}`,
    );
  }

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-doas-it-'));
    mkdirSync(path.join(root, 'inventory'));
    [host] = await labUp(['doas1'], { project: loadProject({ root }) });
    await inHost(
      "printf 'permit nopass root as nobody\\n' > /etc/doas.conf && chown root:root /etc/doas.conf && chmod 0400 /etc/doas.conf",
    );
    writeInventory(['nobody', '65534', 'daemon']);
  });

  after(async () => {
    await labDown([host.name], { project: loadProject({ root }) });
    rmSync(root, { recursive: true, force: true });
  });

  it('runs as a named user and as a numeric uid', async () => {
    const nobodyUid = await inHost('id -u nobody');
    assert.equal(nobodyUid, '65534');
    for (const alias of ['doas-nobody', 'doas-65534']) {
      const r = await orch('-o', 'json', 'run', alias, '--become', '--accept-new-hostkeys', '--', 'id', '-u');
      assert.equal(r.code, 0, `${alias}: ${r.stdout}${r.stderr}`);
      const [h] = parseJson<RunJson>(r).hosts;
      assert.equal(h?.ok, true, JSON.stringify(h));
      assert.equal(h.stdout?.trim(), nobodyUid, alias);
    }
    // Without --become the same alias runs as the login user.
    const plain = await orch('-o', 'json', 'run', 'doas-65534', '--accept-new-hostkeys', '--', 'id', '-u');
    assert.equal(parseJson<RunJson>(plain).hosts[0]?.stdout?.trim(), '0');
  });

  it('fails at once for a user doas.conf does not permit, and runs nothing', async () => {
    const marker = '/tmp/orch-doas-denied';
    await inHost(`rm -f ${marker}`);
    const r = await orch(
      '-o',
      'json',
      'run',
      'doas-daemon',
      '--become',
      '--accept-new-hostkeys',
      '--',
      'touch',
      marker,
    );
    assert.notEqual(r.code, 0, r.stdout);
    const [h] = parseJson<RunJson>(r).hosts;
    assert.ok(h && h.ok === false && h.exitCode === 1, JSON.stringify(h));
    assert.match(h.stderr ?? '', /^doas: Operation not permitted$/m);
    assert.equal(await inHost(`test -e ${marker} && echo present || echo absent`), 'absent');
  });
});
