import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { debianMirror } from '../../../src/lab/apt-source.js';
import { renderInterfaces } from '../../../src/lab/booted-files.js';
import { FIRSTBOOT_SCRIPT, imagePackages, imageRecipe, recipeHash } from '../../../src/lab/image-recipe.js';
import { nspawnArgv } from '../../../src/lab/nspawn.js';
import { bootedPrereqProblem } from '../../../src/lab/prereqs.js';
import { SUITES, parseSuite } from '../../../src/lab/suites.js';

describe('lab/booted hosts: suites, mirror, recipe, nspawn argv', () => {
  it('maps each suite to the PostgreSQL its archive ships and refuses others', () => {
    assert.deepEqual(
      SUITES.map((s) => [s.name, s.postgresql]),
      [
        ['bullseye', 13],
        ['bookworm', 15],
        ['trixie', 17],
      ],
    );
    assert.equal(parseSuite('Bookworm').postgresql, 15);
    assert.throws(() => parseSuite('13'), /unknown OS '13'/);
    assert.throws(() => parseSuite('buster'), /unknown OS 'buster'.*bullseye, bookworm, trixie/);
  });

  it("finds the Debian archive among deb822 and one-line sources, skipping security and other vendors' repos", () => {
    const deb822 = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb-src',
      'URIs: http://src.example/debian',
      'Suites: bookworm',
      'Components: main',
      '',
      'Types: deb',
      '# a comment line',
      'URIs: http://mirror.example/debian/',
      'Suites: bookworm bookworm-updates',
      'Components: main contrib',
    ].join('\n');
    const nodesource =
      'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n';
    assert.equal(
      debianMirror([
        { name: 'nodesource.sources', text: nodesource },
        { name: 'debian.sources', text: deb822 },
      ]),
      'http://mirror.example/debian',
    );
    assert.equal(
      debianMirror([
        { name: 'cloud.list', text: 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n' },
        { name: 'sources.list', text: '# x\ndeb [arch=amd64] http://ftp.example/debian bullseye main\n' },
      ]),
      'http://ftp.example/debian',
    );
    assert.equal(
      debianMirror([{ name: 'x.list', text: 'deb http://a.example/debian bookworm contrib\n' }]),
      undefined,
    );
  });

  it("installs the release's own PostgreSQL with systemd and sshd, and hashes the recipe per suite", () => {
    const bullseye = parseSuite('bullseye');
    const pk = imagePackages(bullseye);
    for (const p of [
      'systemd',
      'systemd-sysv',
      'dbus',
      'openssh-server',
      'sudo',
      'postgresql-13',
      'iproute2',
    ])
      assert.ok(pk.includes(p), p);
    const hashes = SUITES.map((s) => recipeHash(imageRecipe(s)));
    assert.equal(new Set(hashes).size, 3);
    assert.equal(recipeHash(imageRecipe(bullseye)), hashes[0], 'the same recipe hashes the same');
    const changed = imageRecipe(bullseye);
    changed.packages.push('less');
    assert.notEqual(recipeHash(changed), hashes[0]);
  });

  it('makes the default cluster again at first boot, as the postinst does, and the scripts parse', () => {
    const r = imageRecipe(parseSuite('trixie'));
    const firstboot = r.files[FIRSTBOOT_SCRIPT]!.content;
    assert.match(firstboot, /pg_createcluster -u postgres 17 main\n/);
    assert.match(firstboot, /systemctl start postgresql@17-main\.service/);
    assert.match(r.script, /pg_dropcluster 17 main/);
    assert.match(r.script, /rm -f \/etc\/ssh\/ssh_host_\*/);
    for (const text of [firstboot, r.script]) execFileSync('/bin/sh', ['-n', '-c', text]);
  });

  it('configures host0 statically with the fixed MAC of its address', () => {
    const text = renderInterfaces('10.213.0.11');
    assert.match(
      text,
      /auto host0\niface host0 inet static\n {4}address 10\.213\.0\.11\/16\n {4}hwaddress ether 02:0d:d5:00:00:0b/,
    );
  });

  it('boots with systemd as PID 1 on an overlay over the image, on the lab bridge, without machined', () => {
    const argv = nspawnArgv({
      machine: 'orch-db1',
      hostname: 'db1.example.com',
      rootfs: '/img/bookworm/rootfs',
      upper: '/run/orch-lab/hosts/db1/upper',
      bridge: 'orchlab0',
      bindRo: ['/var/cache/orch-lab-apt'],
    });
    assert.equal(argv[0], 'systemd-nspawn');
    for (const a of [
      '--boot',
      '--register=no',
      '--keep-unit',
      '--machine=orch-db1',
      '--hostname=db1.example.com',
      '--overlay=/img/bookworm/rootfs:/run/orch-lab/hosts/db1/upper:/',
      '--network-bridge=orchlab0',
      '--bind-ro=/var/cache/orch-lab-apt',
    ])
      assert.ok(argv.includes(a), a);
  });

  it('names the packages to install when nspawn or debootstrap is missing', () => {
    const msg = bootedPrereqProblem((f) => !f.endsWith('/systemd-nspawn'));
    assert.match(msg ?? '', /need systemd-nspawn: install systemd-container/);
    assert.equal(
      bootedPrereqProblem(() => true),
      undefined,
    );
  });
});
