// Files on two lab hosts through the built CLI, as a user types the commands: `orch cp` of a binary file holding every
// byte value and of a file of several MB, with owner and mode, fetched back byte for byte from both hosts, under
// become as a non-root login user, into a directory another account owns; file.managed with a binary source sent
// over SFTP (converge, a second run that sends nothing, --test that writes nothing); an unreachable host reported
// while the others go on.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import type { HostRunResult } from '../../src/engine/result.js';
import { execInHost, labDown, labUp, type LabHost } from '../../src/lab/index.js';
import { parseJson, runOrch } from '../helpers/cli.js';

interface CpJson {
  hosts: {
    host: string;
    ok: boolean;
    changed?: boolean;
    localFile?: string;
    bytes: number;
    error?: { code: string; message: string };
    stats: { connections: number; execs: number; sftp?: number };
  }[];
}

interface Report {
  hosts: HostRunResult[];
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('orch cp and binary file.managed on lab hosts', function () {
  this.timeout(300_000);
  let root: string;
  let hosts: LabHost[];
  let everyByte: Buffer;
  let big: Buffer;
  const orch = (...args: string[]) => runOrch(['--root', root, ...args]);
  const inHost = async (h: LabHost, script: string) =>
    (await execInHost(h.name, ['/bin/sh', '-c', script], { timeoutMs: 30_000 })).stdout.trim();
  const byHost = (r: CpJson, name: string) => r.hosts.find((h) => h.host === name)!;

  function writeInventory(extra = ''): void {
    const lines = hosts.map((h) => `  ${h.name}:\n    address: ${h.ip}\n`).join('');
    writeFileSync(
      path.join(root, 'inventory/hosts.yaml'),
      `defaults:\n  user: root\n  identity: .orch/lab/id_ed25519\nhosts:\n${lines}${extra}`,
    );
  }

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'orch-files-it-'));
    mkdirSync(path.join(root, 'inventory'));
    hosts = await labUp(['files1', 'files2'], { project: loadProject({ root }) });
    writeInventory();
    // Every byte value, in order and then reversed, and a file of several MB that is not text.
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    everyByte = Buffer.concat([bytes, Buffer.from(bytes).reverse(), Buffer.from('\n\0\r\n')]);
    big = randomBytes(6 * 1024 * 1024 + 123);
    writeFileSync(path.join(root, 'every-byte.bin'), everyByte);
    writeFileSync(path.join(root, 'big.bin'), big);
  });

  after(async () => {
    await labDown(
      hosts.map((h) => h.name),
      { project: loadProject({ root }) },
    );
    rmSync(root, { recursive: true, force: true });
  });

  it('sends a file with every byte value and a 6 MB file to both hosts, with owner and mode', async () => {
    for (const [file, data] of [
      ['every-byte.bin', everyByte],
      ['big.bin', big],
    ] as const) {
      const local = path.join(root, file);
      const r = await orch(
        '-o',
        'json',
        'cp',
        '*',
        local,
        `/srv/orch-${file}`,
        '--owner',
        'postgres',
        '--group',
        'adm',
        '--mode',
        '0640',
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const json = parseJson<CpJson>(r);
      for (const h of hosts) {
        const got = byHost(json, h.name);
        assert.equal(got.ok, true, JSON.stringify(got));
        assert.equal(got.changed, true);
        assert.deepEqual(got.stats, { connections: 1, execs: 1, sftp: 1 });
        assert.equal(await inHost(h, `sha256sum < /srv/orch-${file} | cut -d' ' -f1`), sha(data));
        assert.equal(await inHost(h, `stat -c %U:%G:%a /srv/orch-${file}`), 'postgres:adm:640');
        // No temp file beside the target, no staging directory left behind.
        assert.equal(
          await inHost(
            h,
            "ls -a /srv | grep -c '^\\.orch' || true; ls -d /tmp/orch-xfer-* 2>/dev/null | wc -l",
          ),
          '0\n0',
        );
      }
    }
  });

  it('leaves a file that is already as wanted alone', async () => {
    const before = await inHost(hosts[0]!, 'stat -c %i /srv/orch-big.bin');
    const r = await orch(
      'cp',
      hosts[0]!.name,
      path.join(root, 'big.bin'),
      '/srv/orch-big.bin',
      '--owner',
      'postgres',
      '--group',
      'adm',
      '--mode',
      '0640',
      '--stats',
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/srv\/orch-big\.bin unchanged \(6\.0 MiB/);
    assert.match(r.stdout, /1 connection\(s\), 1 exec round trip\(s\), 1 sftp channel\(s\)/);
    assert.equal(await inHost(hosts[0]!, 'stat -c %i /srv/orch-big.bin'), before, 'not replaced');
  });

  it('fetches the files back from both hosts, byte-identical, one directory per host', async () => {
    const dir = path.join(root, 'fetched');
    for (const [file, data] of [
      ['every-byte.bin', everyByte],
      ['big.bin', big],
    ] as const) {
      const r = await orch('-o', 'json', 'cp', '--fetch', '*', `/srv/orch-${file}`, dir);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const json = parseJson<CpJson>(r);
      for (const h of hosts) {
        const local = path.join(dir, h.name, `orch-${file}`);
        assert.equal(byHost(json, h.name).localFile, local);
        assert.equal(byHost(json, h.name).stats.execs, 0, 'the login user reads it over SFTP alone');
        assert.ok(readFileSync(local).equals(data), `${local} is byte-identical`);
      }
    }
  });

  it('sends and fetches under become as a non-root login user', async () => {
    const [h] = hosts as [LabHost];
    const name = `deploy-${h.name}`;
    writeInventory(`  ${name}:\n    address: ${h.ip}\n    user: deploy\n`);
    try {
      const local = path.join(root, 'every-byte.bin');
      const denied = await orch('cp', name, local, '/etc/orch-secret.bin', '--mode', '0600');
      assert.equal(denied.code, 1, 'deploy cannot write in /etc without become');
      assert.match(denied.stdout, /error COMMAND_FAILED/);
      const r = await orch(
        '-o',
        'json',
        'cp',
        name,
        local,
        '/etc/orch-secret.bin',
        '--mode',
        '0600',
        '--become',
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(await inHost(h, 'stat -c %U:%G:%a /etc/orch-secret.bin'), 'root:root:600');
      assert.equal(await inHost(h, "sha256sum < /etc/orch-secret.bin | cut -d' ' -f1"), sha(everyByte));
      // In a directory postgres owns, root writes as postgres: the file is postgres's, its bytes still checked.
      const pg = await orch(
        'cp',
        name,
        local,
        '/var/lib/postgresql/orch-every-byte.bin',
        '--become',
        '--mode',
        '0600',
      );
      assert.equal(pg.code, 0, pg.stdout + pg.stderr);
      assert.equal(await inHost(h, 'stat -c %U:%a /var/lib/postgresql/orch-every-byte.bin'), 'postgres:600');
      const dir = path.join(root, 'fetched-become');
      const noBecome = await orch('cp', '--fetch', name, '/etc/orch-secret.bin', dir);
      assert.equal(noBecome.code, 1, 'deploy cannot read a 0600 root file');
      const f = await orch('-o', 'json', 'cp', '--fetch', name, '/etc/orch-secret.bin', dir, '--become');
      assert.equal(f.code, 0, f.stdout + f.stderr);
      assert.ok(readFileSync(path.join(dir, name, 'orch-secret.bin')).equals(everyByte));
      assert.equal(await inHost(h, 'ls -d /tmp/orch-xfer-* 2>/dev/null | wc -l'), '0');
    } finally {
      writeInventory();
    }
  });

  it('sends, re-sends and fetches under become to postgres, a non-root account, by name and by uid', async () => {
    const [h] = hosts as [LabHost];
    const name = `deploy-${h.name}`;
    writeInventory(`  ${name}:\n    address: ${h.ip}\n    user: deploy\n`);
    try {
      const uid = await inHost(h, 'id -u postgres');
      for (const [file, data, as] of [
        ['every-byte.bin', everyByte, 'postgres'],
        ['big.bin', big, uid],
      ] as const) {
        const target = `/var/lib/postgresql/orch-pg-${file}`;
        const r = await orch(
          '-o',
          'json',
          'cp',
          name,
          path.join(root, file),
          target,
          '--become-user',
          as,
          '--mode',
          '0600',
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const got = byHost(parseJson<CpJson>(r), name);
        assert.equal(got.changed, true, JSON.stringify(got));
        // One exec carries script and bytes; no SFTP channel (its staging is the login user's).
        assert.deepEqual(got.stats, { connections: 1, execs: 1 });
        assert.equal(await inHost(h, `stat -c %U:%G:%a ${target}`), 'postgres:postgres:600');
        assert.equal(await inHost(h, `sha256sum < ${target} | cut -d' ' -f1`), sha(data));
      }
      // Sent again: the host already has those bytes, so none travel and the file is not replaced.
      const target = '/var/lib/postgresql/orch-pg-big.bin';
      const ino = await inHost(h, `stat -c %i ${target}`);
      const again = await orch(
        'cp',
        name,
        path.join(root, 'big.bin'),
        target,
        '--become-user',
        'postgres',
        '--mode',
        '0600',
      );
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /orch-pg-big\.bin unchanged/);
      assert.equal(await inHost(h, `stat -c %i ${target}`), ino);
      // deploy itself cannot read postgres's 0600 files; as postgres they come back byte for byte.
      const dir = path.join(root, 'fetched-pg');
      const denied = await orch('cp', '--fetch', name, target, dir);
      assert.equal(denied.code, 1, denied.stdout);
      for (const [file, data] of [
        ['every-byte.bin', everyByte],
        ['big.bin', big],
      ] as const) {
        const f = await orch(
          '-o',
          'json',
          'cp',
          '--fetch',
          name,
          `/var/lib/postgresql/orch-pg-${file}`,
          dir,
          '--become-user',
          'postgres',
        );
        assert.equal(f.code, 0, f.stdout + f.stderr);
        const local = path.join(dir, name, `orch-pg-${file}`);
        assert.equal(byHost(parseJson<CpJson>(f), name).localFile, local);
        assert.ok(readFileSync(local).equals(data), `${file} fetched byte-identical`);
      }
      assert.deepEqual(readdirSync(path.join(dir, name)).sort(), [
        'orch-pg-big.bin',
        'orch-pg-every-byte.bin',
      ]);
      // Nothing left on the host: no temp file beside the targets, no staging or fifo directory.
      assert.equal(
        await inHost(
          h,
          "ls -a /var/lib/postgresql | grep -c '^\\.orch' || true; ls -d /tmp/orch-xfer-* /tmp/tmp.* 2>/dev/null | wc -l",
        ),
        '0\n0',
      );
      const missing = await orch(
        'cp',
        '--fetch',
        name,
        '/var/lib/postgresql/nope',
        dir,
        '--become-user',
        'postgres',
      );
      assert.equal(missing.code, 1);
      assert.match(missing.stdout, /does not exist/);
      // A send that fails before it asks for the data ends at once: its script exits with stdin still open.
      const noDir = await orch(
        'cp',
        name,
        path.join(root, 'big.bin'),
        '/var/lib/postgresql/no-such-dir/x.bin',
        '--become-user',
        'postgres',
      );
      assert.equal(noDir.code, 1);
      assert.match(noDir.stdout, /no-such-dir does not exist/);
    } finally {
      writeInventory();
    }
  });

  it('reports an unreachable host while the others get the file', async () => {
    writeInventory('  gone.example.com:\n    address: 10.213.0.251\n');
    try {
      const r = await orch(
        '-o',
        'json',
        'cp',
        '*',
        path.join(root, 'every-byte.bin'),
        '/srv/orch-again.bin',
        '--accept-new-hostkeys',
      );
      assert.equal(r.code, 3, r.stdout + r.stderr);
      const json = parseJson<CpJson>(r);
      assert.equal(byHost(json, 'gone.example.com').error!.code, 'HOST_UNREACHABLE');
      for (const h of hosts) {
        assert.equal(byHost(json, h.name).ok, true);
        assert.equal(await inHost(h, "sha256sum < /srv/orch-again.bin | cut -d' ' -f1"), sha(everyByte));
      }
    } finally {
      writeInventory();
    }
  });

  describe('file.managed with a binary source', () => {
    const stateOf = (r: Report, host: string) => r.hosts.find((x) => x.host === host)!;

    before(() => {
      mkdirSync(path.join(root, 'states'), { recursive: true });
      mkdirSync(path.join(root, 'templates'), { recursive: true });
      writeFileSync(path.join(root, 'templates/blob.bin'), big);
      writeFileSync(path.join(root, 'states/top.yaml'), "'*':\n  - blob\n");
      writeFileSync(
        path.join(root, 'states/blob.yaml'),
        'blob:\n  file.managed:\n    - name: /srv/orch-blob.bin\n    - source: blob.bin\n    - user: postgres\n    - mode: "0640"\n',
      );
    });

    it('converges, then a second run sends nothing and costs no extra round trip', async () => {
      const first = await orch('-o', 'json', 'apply', '*');
      assert.equal(first.code, 0, first.stdout + first.stderr);
      for (const h of hosts) {
        const host = stateOf(parseJson<Report>(first), h.name);
        assert.equal(host.states[0]!.status, 'changed', JSON.stringify(host.states[0]));
        assert.equal(host.stats.sftp, 1);
        assert.equal(await inHost(h, "sha256sum < /srv/orch-blob.bin | cut -d' ' -f1"), sha(big));
        assert.equal(await inHost(h, 'stat -c %U:%a /srv/orch-blob.bin'), 'postgres:640');
      }
      const second = await orch('-o', 'json', 'apply', '*');
      assert.equal(second.code, 0, second.stdout + second.stderr);
      for (const h of hosts) {
        const host = stateOf(parseJson<Report>(second), h.name);
        assert.equal(host.states[0]!.status, 'clean');
        // Facts and check, as for any run with nothing to do: no SFTP channel, no apply.
        assert.deepEqual(host.stats, { connections: 1, execs: 2 });
      }
    });

    it('--test reports the change and writes nothing', async () => {
      const [h] = hosts as [LabHost];
      await inHost(h, 'printf changed > /srv/orch-blob.bin');
      const r = await orch('-o', 'json', 'apply', h.name, '--test');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const host = stateOf(parseJson<Report>(r), h.name);
      assert.equal(host.states[0]!.status, 'would_change');
      assert.match(host.states[0]!.comment, /content differs/);
      assert.equal(host.stats.sftp ?? 0, 0);
      assert.equal(await inHost(h, 'cat /srv/orch-blob.bin'), 'changed');
      const fixed = await orch('-o', 'json', 'apply', h.name);
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.equal(await inHost(h, "sha256sum < /srv/orch-blob.bin | cut -d' ' -f1"), sha(big));
    });
  });

  describe('file.managed with a binary source under become to postgres', () => {
    const target = '/var/lib/postgresql/orch-pg-blob.bin';
    let h: LabHost;
    let name: string;
    const stateOf = (r: Report) => r.hosts.find((x) => x.host === name)!;

    before(() => {
      h = hosts[0]!;
      name = `pg-${h.name}`;
      writeInventory(
        `  ${name}:\n    address: ${h.ip}\n    user: deploy\n    become:\n      user: postgres\n`,
      );
      mkdirSync(path.join(root, 'states'), { recursive: true });
      mkdirSync(path.join(root, 'templates'), { recursive: true });
      writeFileSync(path.join(root, 'templates/pgblob.bin'), big);
      writeFileSync(path.join(root, 'states/top.yaml'), `'${name}':\n  - pgblob\n`);
      writeFileSync(
        path.join(root, 'states/pgblob.yaml'),
        `pgblob:\n  file.managed:\n    - name: ${target}\n    - source: pgblob.bin\n    - mode: "0600"\n`,
      );
    });

    after(() => writeInventory());

    it('converges as postgres, then a second run sends nothing', async () => {
      const first = await orch('-o', 'json', 'apply', name);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const host = stateOf(parseJson<Report>(first));
      assert.equal(host.states[0]!.status, 'changed', JSON.stringify(host.states[0]));
      assert.equal(host.stats.sftp ?? 0, 0, 'sent over the exec channel, not SFTP');
      assert.equal(await inHost(h, `sha256sum < ${target} | cut -d' ' -f1`), sha(big));
      assert.equal(await inHost(h, `stat -c %U:%G:%a ${target}`), 'postgres:postgres:600');
      assert.equal(await inHost(h, 'ls -d /tmp/orch-xfer-* 2>/dev/null | wc -l'), '0', 'staging removed');
      const second = await orch('-o', 'json', 'apply', name);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const again = stateOf(parseJson<Report>(second));
      assert.equal(again.states[0]!.status, 'clean');
      assert.deepEqual(again.stats, { connections: 1, execs: 2 });
    });

    it('--test reports the change and writes nothing; apply restores the bytes', async () => {
      await inHost(h, `printf changed > ${target}`);
      const r = await orch('-o', 'json', 'apply', name, '--test');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const host = stateOf(parseJson<Report>(r));
      assert.equal(host.states[0]!.status, 'would_change');
      assert.match(host.states[0]!.comment, /content differs/);
      assert.equal(host.stats.execs, 2, 'facts and check only');
      assert.equal(await inHost(h, `cat ${target}`), 'changed');
      assert.equal(await inHost(h, 'ls -d /tmp/orch-xfer-* 2>/dev/null | wc -l'), '0');
      const fixed = await orch('-o', 'json', 'apply', name);
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.equal(await inHost(h, `sha256sum < ${target} | cut -d' ' -f1`), sha(big));
      assert.equal(await inHost(h, `stat -c %U:%a ${target}`), 'postgres:600');
    });
  });
});
