// `--ssh-config` through the built CLI: a path relative to where it is typed, and `orch hosts` showing what
// ssh_config resolved (address, jump hosts, which fields came from it). Connects to nothing.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../../helpers/cli.js';

describe('orch --ssh-config', function () {
  this.timeout(30_000);
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-sshcli-'));
    mkdirSync(path.join(tmp, 'proj', 'inventory'), { recursive: true });
    writeFileSync(
      path.join(tmp, 'proj', 'inventory', 'hosts.yaml'),
      'hosts:\n  bastion: { address: 192.0.2.1 }\n  db: {}\n',
    );
    writeFileSync(
      path.join(tmp, 'my_ssh_config'),
      'Host db\n  HostName 10.9.0.2\n  User pg\n  ProxyJump ops@bastion\n',
    );
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads the file named relative to the working directory and shows the resolved host', async () => {
    const r = await runOrch(['-r', 'proj', '--ssh-config', 'my_ssh_config', '-o', 'json', 'hosts', 'db'], {
      cwd: tmp,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [db] = parseJson<{ hosts: Record<string, unknown>[] }>(r).hosts;
    assert.deepEqual(
      [db!.address, db!.user, db!.jumps, db!.fromSshConfig],
      ['10.9.0.2', 'pg', ['ops@bastion:22'], ['HostName', 'User']],
    );
    const human = await runOrch(['-r', 'proj', '--ssh-config', 'my_ssh_config', 'hosts', 'db'], { cwd: tmp });
    assert.match(human.stdout, /^db\s+10\.9\.0\.2:22 via bastion\s+pg\s/m);
    const none = await runOrch(['-r', 'proj', '--ssh-config', 'none', '-o', 'json', 'hosts', 'db'], {
      cwd: tmp,
    });
    assert.equal(parseJson<{ hosts: { address: string }[] }>(none).hosts[0]!.address, 'db');
    const missing = await runOrch(['-r', 'proj', '--ssh-config', 'nope', 'hosts', 'db'], { cwd: tmp });
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, new RegExp(`ssh_config file not found: ${path.join(tmp, 'nope')}`));
  });
});
