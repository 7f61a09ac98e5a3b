import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeHostFiles } from '../../../src/lab/booted-files.js';

describe('lab/booted host files (first-boot layer)', function () {
  this.timeout(30_000);
  let tmp: string;
  let rootfs: string;
  let upper: string;
  const uid = process.getuid!();
  const gid = process.getgid!();

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'orch-booted-files-'));
    rootfs = path.join(tmp, 'rootfs');
    upper = path.join(tmp, 'upper');
    // A tiny image: /root 0700, /etc/ssh 0755, /home/deploy 0750 and a deploy user.
    for (const [dir, mode] of [
      ['etc/ssh', 0o755],
      ['etc/network', 0o755],
      ['root', 0o700],
      ['home/deploy', 0o750],
    ] as const) {
      mkdirSync(path.join(rootfs, dir), { recursive: true });
      chmodSync(path.join(rootfs, dir), mode);
    }
    writeFileSync(
      path.join(rootfs, 'etc/passwd'),
      `root:x:0:0::/root:/bin/sh\ndeploy:x:${uid}:${gid}::/home/deploy:/bin/sh\n`,
    );
    await writeHostFiles({
      name: 'db1.example.com',
      ip: '10.213.0.31',
      rootfs,
      upper,
      hostsFile: '127.0.0.1\tlocalhost\n10.213.0.31\tdb1.example.com db1\n',
      authorizedKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample orch-lab-controller\n',
    });
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  const mode = (rel: string): number => statSync(path.join(upper, rel)).mode & 0o7777;
  const text = (rel: string): string => readFileSync(path.join(upper, rel), 'utf8');

  it("keeps the image's directory modes in the layer, so the merged view is the image's", () => {
    assert.equal(mode('.'), 0o755);
    assert.equal(mode('root'), 0o700);
    assert.equal(mode('etc/ssh'), 0o755);
    assert.equal(mode('home/deploy'), 0o750);
  });

  it('writes name, hosts, a fresh machine id and the static host0 config', () => {
    assert.equal(text('etc/hostname'), 'db1.example.com\n');
    assert.match(text('etc/hosts'), /10\.213\.0\.31\tdb1\.example\.com db1/);
    assert.match(text('etc/machine-id'), /^[0-9a-f]{32}\n$/);
    assert.match(text('etc/network/interfaces'), /address 10\.213\.0\.31\/16/);
  });

  it('makes the host its own SSH host keys, private ones readable by root only', () => {
    for (const t of ['ed25519', 'ecdsa', 'rsa']) {
      assert.equal(mode(`etc/ssh/ssh_host_${t}_key`), 0o600);
      assert.match(text(`etc/ssh/ssh_host_${t}_key.pub`), /root@db1\.example\.com/);
    }
  });

  it('gives root and deploy the lab key with ssh-safe modes and deploy its own ownership', () => {
    assert.equal(mode('root/.ssh'), 0o700);
    assert.equal(mode('root/.ssh/authorized_keys'), 0o600);
    assert.match(text('root/.ssh/authorized_keys'), /orch-lab-controller/);
    assert.equal(mode('home/deploy/.ssh'), 0o700);
    const st = statSync(path.join(upper, 'home/deploy/.ssh/authorized_keys'));
    assert.equal(st.uid, uid);
    assert.equal(st.mode & 0o777, 0o600);
  });
});
