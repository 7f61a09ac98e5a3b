// Booted lab hosts: two bookworm hosts booted from the Debian image (systemd as PID 1, the distro's sshd and
// PostgreSQL), reached through the built CLI like any server: facts, an ad-hoc command, then taken down.
// Needs Linux, root, debootstrap and systemd-container; without them, or when the image cannot be built, the suite
// fails with the reason (ORCH_TEST_UNIT_ONLY=1 skips it).
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Facts } from '../../src/facts/types.js';
import { imageRootfs } from '../../src/lab/image.js';
import { leaderPid } from '../../src/lab/nspawn.js';
import { bootedUpperDir } from '../../src/lab/paths.js';
import { parseSuite } from '../../src/lab/suites.js';
import { requireBootedLab } from '../helpers/booted-lab.js';
import { parseJson, runOrch } from '../helpers/cli.js';

interface HostJson {
  name: string;
  short: string;
  kind: string;
  os?: string;
  ip: string;
  pid: number;
  alive: boolean;
  bootMs?: number;
}
interface FactsJson {
  hosts: { host: string; ok: boolean; facts?: Facts }[];
}
interface RunJson {
  hosts: { host: string; ok: boolean; exitCode?: number; stdout?: string }[];
}

const NAMES = ['bootsmoke1.example.com', 'bootsmoke2.example.com'];

describe('booted lab hosts (bookworm under systemd-nspawn)', function () {
  this.timeout(600_000);
  let root: string;
  let up: HostJson[] = [];
  const orch = (...args: string[]) => runOrch(['--root', root, ...args], { timeoutMs: 540_000 });
  const inventory = (): string => path.join(root, '.orch', 'lab', 'inventory.yaml');

  before(async function () {
    root = mkdtempSync(path.join(tmpdir(), 'orch-booted-it-'));
    await requireBootedLab(this, 'bookworm');
    const r = await orch('-o', 'json', 'lab', 'up', '--os', 'bookworm', ...NAMES);
    assert.equal(r.code, 0, r.stderr);
    up = parseJson<HostJson[]>(r);
  });

  after(async () => {
    if (up.length > 0) {
      const r = await orch('lab', 'down', ...NAMES);
      assert.equal(r.code, 0, r.stderr);
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('boots each host from the image, registered as booted with its nspawn pid and boot time', async () => {
    assert.deepEqual(
      up.map((h) => [h.name, h.kind, h.os, h.alive]),
      NAMES.map((n) => [n, 'booted', 'bookworm', true]),
    );
    for (const h of up) {
      assert.ok(h.pid > 1);
      assert.equal(readFileSync(`/proc/${h.pid}/comm`, 'utf8').trim(), 'systemd-nspawn');
      assert.ok(h.bootMs! > 0 && h.bootMs! < 120_000, `boot time ${h.bootMs}`);
    }
    const status = parseJson<HostJson[]>(await orch('-o', 'json', 'lab', 'status'));
    for (const n of NAMES) assert.equal(status.find((h) => h.name === n)?.alive, true, n);
  });

  it('runs each host in its own network, mount, PID, UTS and IPC namespaces, systemd as its PID 1', () => {
    const kinds = ['net', 'mnt', 'pid', 'uts', 'ipc'];
    const ns = (pid: number | 'self') => kinds.map((k) => readlinkSync(`/proc/${pid}/ns/${k}`));
    const controller = ns('self');
    const hosts = up.map((h) => {
      const leader = leaderPid(h.pid);
      assert.ok(leader, `${h.name}: the container's PID 1`);
      assert.equal(readFileSync(`/proc/${leader}/comm`, 'utf8').trim(), 'systemd', h.name);
      return ns(leader);
    });
    kinds.forEach((k, i) => {
      assert.notEqual(hosts[0]![i], controller[i], `${NAMES[0]} has its own ${k} namespace`);
      assert.notEqual(hosts[1]![i], controller[i], `${NAMES[1]} has its own ${k} namespace`);
      assert.notEqual(hosts[0]![i], hosts[1]![i], `the two hosts share a ${k} namespace`);
    });
  });

  it("writes land in the host's own copy-on-write layer, not in the image or the other host", async () => {
    const file = '/etc/orch-cow-probe';
    const w = await orch('-i', inventory(), 'run', NAMES[0]!, '--', 'sh', '-c', `echo written > ${file}`);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(path.join(bootedUpperDir(up[0]!.short), file), 'utf8'), 'written\n');
    assert.equal(existsSync(path.join(imageRootfs(parseSuite('bookworm')), file)), false, 'in the image');
    const r = await orch('-o', 'json', '-i', inventory(), 'run', NAMES[1]!, '--', 'test', '!', '-e', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseJson<RunJson>(r).hosts[0]!.exitCode, 0, 'the other host sees the file');
  });

  it('keeps running booted hosts on a plain `up`, and refuses to swap one for another OS', async () => {
    const again = await orch('-o', 'json', 'lab', 'up', NAMES[0]!);
    assert.equal(again.code, 0, again.stderr);
    const kept = parseJson<HostJson[]>(again)[0]!;
    assert.deepEqual([kept.kind, kept.os, kept.pid], ['booted', 'bookworm', up[0]!.pid]);
    const other = await orch('lab', 'up', '--os', 'bullseye', NAMES[0]!);
    assert.equal(other.code, 4, other.stderr);
    assert.match(other.stderr, /runs as a booted bookworm host, not booted bullseye: take it down first/);
  });

  it('gives every host its own SSH host keys in known_hosts', () => {
    const lines = readFileSync(path.join(root, '.orch', 'known_hosts'), 'utf8').split('\n');
    const keyOf = (h: HostJson): string => {
      const line = lines.find((l) => l.startsWith(`${h.name},${h.ip} ssh-ed25519 `));
      assert.ok(line, `known_hosts has ${h.name}'s ed25519 key`);
      return line.split(' ')[2]!;
    };
    assert.notEqual(keyOf(up[0]!), keyOf(up[1]!));
  });

  it('`orch facts`: systemd as init, the package-made 15/main cluster running', async () => {
    const r = await orch('-o', 'json', '-i', inventory(), 'facts', '*');
    assert.equal(r.code, 0, r.stderr);
    const hosts = parseJson<FactsJson>(r).hosts;
    assert.deepEqual(hosts.map((h) => h.host).sort(), NAMES);
    for (const h of hosts) {
      assert.equal(h.ok, true);
      assert.equal(h.facts!.init, 'systemd');
      assert.equal(h.facts!.hostname, h.host);
      assert.match(h.facts!.osVersion, /^12/);
      assert.deepEqual(
        h.facts!.postgres.clusters.map((c) => [c.version, c.name, c.running]),
        [['15', 'main', true]],
      );
    }
  });

  it('`orch run`: every host resolves the other lab hosts by name', async () => {
    const r = await orch(
      '-o',
      'json',
      '-i',
      inventory(),
      'run',
      NAMES[0]!,
      '--',
      'getent',
      'hosts',
      NAMES[1]!,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      parseJson<RunJson>(r).hosts[0]!.stdout!,
      new RegExp(`^${up[1]!.ip.replace(/\./g, '\\.')}\\s`),
    );
  });

  it("`orch run`: each host's cluster has its own system identifier", async () => {
    const r = await orch(
      '-o',
      'json',
      '-i',
      inventory(),
      'run',
      '*',
      '--',
      'runuser',
      '-u',
      'postgres',
      '--',
      'psql',
      '-d',
      'postgres',
      '-Atc',
      'select system_identifier from pg_control_system()',
    );
    assert.equal(r.code, 0, r.stderr);
    const ids = parseJson<RunJson>(r).hosts.map((h) => {
      assert.equal(h.exitCode, 0, h.host);
      return h.stdout!.trim();
    });
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(id, /^\d{10,}$/);
    assert.notEqual(ids[0], ids[1]);
  });
});
