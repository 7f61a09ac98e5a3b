// `orch render` and `orch apply --test` report a YAML or template error that needs no facts before connecting: the
// host below listens nowhere, so an attempt to connect would end in exit 3 (unreachable), not 4.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJson, runOrch } from '../../helpers/cli.js';

describe('orch render / apply --test: errors before connecting', function () {
  this.timeout(60_000);
  let root = '';
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'orch-offline-'));
    for (const d of ['inventory', 'states', 'pillar', 'templates']) mkdirSync(path.join(root, d));
    writeFileSync(
      path.join(root, 'inventory', 'hosts.yaml'),
      'hosts:\n  db1.example.com: { address: 127.0.0.1, port: 1 }\n  db2.example.com: { address: 127.0.0.1, port: 1 }\n',
    );
    writeFileSync(path.join(root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(path.join(root, 'states', 'site.yaml'), 'motd:\n  cmd.run:\n   - name: a\n  - b: [\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('orch render names the YAML error and exits 4', async () => {
    const r = await runOrch(['-r', root, 'render', 'db1.example.com']);
    assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^orch: states\/site\.yaml:\d+: .*\[host db1\.example\.com\]/m);
  });

  it('orch apply --test aborts with the error and no connection to any host', async () => {
    const r = await runOrch(['-r', root, '-o', 'json', 'apply', '*', '--test', '--no-progress', '--stats']);
    assert.equal(r.code, 4, `${r.stdout}\n${r.stderr}`);
    const report = parseJson<{
      aborted: { code: string; host: string; errors: { file?: string }[] };
      hosts: { host: string; ok: boolean; stats: { connections: number }; error?: { message: string } }[];
    }>(r);
    assert.equal(report.aborted.code, 'YAML_ERROR');
    assert.equal(report.aborted.host, 'db1.example.com');
    assert.equal(report.aborted.errors[0]?.file, 'states/site.yaml');
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.ok, h.stats.connections]),
      [
        ['db1.example.com', false, 0],
        ['db2.example.com', false, 0],
      ],
    );
    assert.match(report.hosts[1]!.error!.message, /not run: another host's states failed to compile/);
  });
});
