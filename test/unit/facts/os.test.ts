import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { parseFacts } from '../../../src/facts/parse.js';
import { osPaths, parsePkgQuery } from '../../../src/facts/os/index.js';
import { installLine } from '../../../src/facts/os/pkg.js';
import { OrchError } from '../../../src/errors.js';
import { fixture } from './fixtures.js';

const debian = parseFacts(fixture('debian12-pg15-running.txt'));
const ubuntu = parseFacts(fixture('ubuntu2204-pg14-pg16.txt'));
const bare = parseFacts(fixture('bare-debian12.txt'));
const rocky = parseFacts(fixture('rocky9-pg16.txt'));
const freebsd = parseFacts(fixture('freebsd14-pg15.txt'));

describe('facts/os: Debian (systemd)', () => {
  const p = osPaths(debian);
  it('builds service, enable and package commands', () => {
    assert.deepEqual(p.serviceCmd('postgresql@15-main', 'restart'), [
      'systemctl',
      'restart',
      'postgresql@15-main',
    ]);
    assert.deepEqual(p.enableCmd('postgresql'), ['systemctl', 'enable', 'postgresql']);
    assert.deepEqual(p.isEnabledCmd('postgresql'), ['systemctl', 'is-enabled', '--quiet', 'postgresql']);
    assert.equal(p.freebsd, false);
    assert.deepEqual(p.serviceActionCmd('postgresql', 'start'), ['systemctl', 'start', 'postgresql']);
    assert.match(p.serviceExists('postgresql'), /systemctl show -p LoadState postgresql/);
    assert.equal(p.suCommand('postgres', "echo 'x'"), `su -s /bin/sh postgres -c 'echo '\\''x'\\'''`);
  });
  it('gives PostgreSQL paths from the discovered cluster and defaults for a new one', () => {
    assert.deepEqual(p.postgresPaths('15'), {
      cluster: 'main',
      serverPackage: 'postgresql-15',
      home: '/var/lib/postgresql',
      initdb: null,
      dataDir: '/var/lib/postgresql/15/main',
      confDir: '/etc/postgresql/15/main',
      binDir: '/usr/lib/postgresql/15/bin',
      socketDir: '/var/run/postgresql',
      serviceName: 'postgresql@15-main',
      pgUser: 'postgres',
    });
    assert.deepEqual(p.postgresPaths('16', 'replica'), {
      cluster: 'replica',
      serverPackage: 'postgresql-16',
      home: '/var/lib/postgresql',
      initdb: null,
      dataDir: '/var/lib/postgresql/16/replica',
      confDir: '/etc/postgresql/16/replica',
      binDir: '/usr/lib/postgresql/16/bin',
      socketDir: '/var/run/postgresql',
      serviceName: 'postgresql@16-replica',
      pgUser: 'postgres',
    });
    assert.equal(
      osPaths(ubuntu).postgresPaths('16').dataDir,
      '/srv/pg/16 main',
      'a moved data_directory wins',
    );
  });
  it('uses service and update-rc.d under sysvinit', () => {
    const s = osPaths(bare);
    assert.deepEqual(s.serviceCmd('postgresql', 'reload'), ['service', 'postgresql', 'reload']);
    assert.deepEqual(s.enableCmd('postgresql'), ['update-rc.d', 'postgresql', 'enable']);
    assert.equal(s.postgresPaths('15').serviceName, 'postgresql');
  });
});

describe('facts/os: RHEL (Rocky 9, PGDG)', () => {
  const p = osPaths(rocky);
  it('builds service, enable and package commands', () => {
    assert.deepEqual(p.serviceCmd('postgresql-16', 'start'), ['systemctl', 'start', 'postgresql-16']);
    assert.deepEqual(p.enableCmd('postgresql-16'), ['systemctl', 'enable', 'postgresql-16']);
  });
  it('gives PGDG paths', () => {
    assert.deepEqual(p.postgresPaths('16'), {
      cluster: 'data',
      serverPackage: 'postgresql16-server',
      home: '/var/lib/pgsql',
      initdb: ['/usr/pgsql-16/bin/postgresql-16-setup', 'initdb'],
      dataDir: '/var/lib/pgsql/16/data',
      confDir: '/var/lib/pgsql/16/data',
      binDir: '/usr/pgsql-16/bin',
      socketDir: '/tmp',
      serviceName: 'postgresql-16',
      pgUser: 'postgres',
    });
  });
  it('queries packages with rpm', () => {
    const script = p.pkgQueryScript(['postgresql16-server']);
    assert.match(script, /rpm -q --qf '%\{VERSION\}-%\{RELEASE\}' postgresql16-server/);
  });
  it('uses yum where dnf is missing', () => {
    assert.match(osPaths({ ...rocky, pkgTool: 'yum' }).pkgQueryScript(['x']), /rpm -q/);
    assert.equal(installLine('yum'), 'yum -y install "$@"');
  });
});

describe('facts/os: FreeBSD 14', () => {
  const p = osPaths(freebsd);
  it('builds service, enable and package commands', () => {
    // rc.subr(8): without the one prefix a service not enabled in rc.conf is refused with exit status 0.
    for (const a of ['start', 'stop', 'status', 'restart', 'reload'] as const)
      assert.deepEqual(p.serviceCmd('postgresql', a), ['service', 'postgresql', `one${a}`]);
    assert.deepEqual(p.enableCmd('postgresql'), ['sysrc', 'postgresql_enable=YES']);
    assert.deepEqual(p.isEnabledCmd('postgresql'), ['service', 'postgresql', 'enabled']);
    assert.equal(p.freebsd, true);
    assert.deepEqual(p.serviceActionCmd('postgresql', 'stop'), ['service', 'postgresql', 'onestop']);
    assert.equal(p.serviceActive('postgresql'), 'service postgresql onestatus >/dev/null 2>&1');
    assert.equal(
      installLine('pkg'),
      '{ pkg -N >/dev/null 2>&1 || pkg bootstrap -y; } && pkg install -y "$@"',
    );
  });
  it('gives the ports layout', () => {
    assert.deepEqual(p.postgresPaths('15'), {
      cluster: 'data',
      serverPackage: 'postgresql15-server',
      home: '/var/db/postgres',
      initdb: ['service', 'postgresql', 'oneinitdb'],
      dataDir: '/var/db/postgres/data15',
      confDir: '/var/db/postgres/data15',
      binDir: '/usr/local/bin',
      socketDir: '/tmp',
      serviceName: 'postgresql',
      pgUser: 'postgres',
    });
    assert.equal(p.postgresPaths('16').dataDir, '/var/db/postgres/data16');
    assert.equal(osPaths({ ...freebsd, postgresUser: 'pgsql' }).postgresPaths('15').pgUser, 'pgsql');
  });
  it('queries packages with pkg info -e', () => {
    assert.match(p.pkgQueryScript(['postgresql15-server']), /pkg info -e postgresql15-server/);
  });
});

describe('facts/os: names and package queries', () => {
  it('refuses names that could read as options or hold shell text', () => {
    const p = osPaths(debian);
    for (const bad of ['-y', '--purge', 'a b', '$(id)', 'x;y', '', "it's"]) {
      assert.throws(() => p.pkgQueryScript([bad]), OrchError, bad);
      assert.throws(() => p.serviceCmd(bad, 'start'), OrchError, bad);
    }
    assert.throws(() => p.pkgQueryScript([]), OrchError);
  });

  it('refuses package commands on a host with no known package tool', () => {
    const unknown = parseFacts('');
    assert.throws(() => osPaths(unknown).pkgQueryScript(['x']), /no known package tool/);
  });

  it('queries dpkg for real on this Debian machine', () => {
    const script = osPaths(debian).pkgQueryScript(['postgresql-15', 'orch-no-such-package', 'dash']);
    const out = execFileSync('/bin/sh', ['-s'], { input: script, timeout: 20_000 }).toString();
    const got = parsePkgQuery(out);
    assert.match(got.get('postgresql-15') ?? '', /^15\./);
    assert.equal(got.get('orch-no-such-package'), null);
    assert.match(got.get('dash') ?? '', /^\d/);
    assert.equal(got.size, 3);
  });

  it('parses query output and ignores noise', () => {
    const got = parsePkgQuery('ok\tpkg-a\t1.2-3\nmissing\tpkg-b\nnoise line\n\nok\tpkg-c\t\n');
    assert.deepEqual(
      [...got],
      [
        ['pkg-a', '1.2-3'],
        ['pkg-b', null],
        ['pkg-c', ''],
      ],
    );
  });
});
