import { strict as assert } from 'node:assert';
import { factsComplete, parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { fixture } from './fixtures.js';

describe('facts/parse', () => {
  it('parses Debian 12 with PostgreSQL 15 running', () => {
    const expected: Facts = {
      kernel: 'Linux',
      kernelRelease: '6.1.0-21-amd64',
      osFamily: 'Debian',
      distro: 'debian',
      osVersion: '12',
      hostname: 'primary.example.com',
      arch: 'x86_64',
      init: 'systemd',
      pkgTool: 'apt',
      postgresUser: 'postgres',
      postgres: {
        versions: ['15'],
        binDirs: { '15': '/usr/lib/postgresql/15/bin' },
        clusters: [
          {
            version: '15',
            name: 'main',
            dataDir: '/var/lib/postgresql/15/main',
            confDir: '/etc/postgresql/15/main',
            port: 5432,
            running: true,
          },
        ],
        socketDir: '/var/run/postgresql',
      },
    };
    const text = fixture('debian12-pg15-running.txt');
    assert.deepEqual(parseFacts(text), expected);
    assert.equal(factsComplete(text), true);
  });

  it('parses Ubuntu 22.04 with clusters 14 (running) and 16 (down, other port, path with a space)', () => {
    const f = parseFacts(fixture('ubuntu2204-pg14-pg16.txt'));
    assert.equal(f.osFamily, 'Debian');
    assert.equal(f.distro, 'ubuntu');
    assert.equal(f.osVersion, '22.04');
    assert.equal(f.arch, 'aarch64');
    assert.deepEqual(f.postgres.versions, ['14', '16']);
    assert.deepEqual(
      f.postgres.clusters.map((c) => [c.version, c.name, c.port, c.running, c.dataDir]),
      [
        ['14', 'main', 5432, true, '/var/lib/postgresql/14/main'],
        ['16', 'main', 5433, false, '/srv/pg/16 main'],
      ],
    );
  });

  it('parses Rocky 9 with PGDG PostgreSQL 16', () => {
    const f = parseFacts(fixture('rocky9-pg16.txt'));
    assert.equal(f.osFamily, 'RedHat');
    assert.equal(f.distro, 'rocky');
    assert.equal(f.osVersion, '9.3');
    assert.equal(f.pkgTool, 'dnf');
    assert.equal(f.init, 'systemd');
    assert.deepEqual(f.postgres.binDirs, { '16': '/usr/pgsql-16/bin' });
    assert.deepEqual(f.postgres.clusters, [
      {
        version: '16',
        name: 'data',
        dataDir: '/var/lib/pgsql/16/data',
        confDir: '/var/lib/pgsql/16/data',
        port: 5432,
        running: true,
      },
    ]);
    assert.equal(f.postgres.socketDir, '/tmp');
  });

  it('parses FreeBSD 14 with postgresql15-server', () => {
    const f = parseFacts(fixture('freebsd14-pg15.txt'));
    assert.equal(f.kernel, 'FreeBSD');
    assert.equal(f.kernelRelease, '14.1-RELEASE');
    assert.equal(f.osFamily, 'FreeBSD');
    assert.equal(f.distro, 'freebsd');
    assert.equal(f.osVersion, '14.1');
    assert.equal(f.arch, 'amd64');
    assert.equal(f.init, 'rc.d');
    assert.equal(f.pkgTool, 'pkg');
    assert.equal(f.postgresUser, 'postgres');
    assert.deepEqual(f.postgres.versions, ['15']);
    assert.deepEqual(f.postgres.binDirs, { '15': '/usr/local/bin' });
    assert.deepEqual(f.postgres.clusters, [
      {
        version: '15',
        name: 'data',
        dataDir: '/var/db/postgres/data15',
        confDir: '/var/db/postgres/data15',
        port: 5432,
        running: false,
      },
    ]);
    assert.equal(f.postgres.socketDir, '/tmp');
  });

  it('parses a bare host without PostgreSQL', () => {
    const f = parseFacts(fixture('bare-debian12.txt'));
    assert.equal(f.osFamily, 'Debian');
    assert.equal(f.init, 'sysvinit');
    assert.deepEqual(f.postgres, {
      versions: [],
      binDirs: {},
      clusters: [],
      socketDir: '/var/run/postgresql',
    });
    assert.equal(f.postgresUser, 'postgres', 'the conventional user when none exists yet');
  });

  it('turns garbage into unknowns without throwing', () => {
    for (const text of [fixture('garbage.txt'), '', '@@orch-facts:', '\u0000\u0001', 'x'.repeat(10000)]) {
      const f = parseFacts(text);
      assert.equal(f.osFamily, 'unknown');
      assert.equal(f.kernel, 'unknown');
      assert.equal(f.hostname, 'unknown');
      assert.equal(f.init, 'unknown');
      assert.equal(f.pkgTool, 'unknown');
      assert.deepEqual(f.postgres.clusters, []);
      assert.equal(factsComplete(text), false);
    }
  });

  it('keeps what a truncated output holds and drops the broken lines', () => {
    const text = fixture('truncated-debian12.txt');
    const f = parseFacts(text);
    assert.equal(factsComplete(text), false);
    assert.equal(f.osFamily, 'Debian');
    assert.equal(f.hostname, 'half');
    assert.deepEqual(f.postgres.versions, ['15'], 'a non-numeric version is ignored');
    assert.equal(f.postgres.clusters.length, 1, 'the cut-off cluster line is dropped');
    assert.equal(f.postgres.clusters[0]!.port, 5432, 'an impossible port falls back to the default');
  });

  it('accepts CRLF line ends and single-quoted os-release values', () => {
    const text = fixture('rocky9-pg16.txt').replace(/\n/g, '\r\n').replace('ID="rocky"', "ID='rocky'");
    const f = parseFacts(text);
    assert.equal(f.distro, 'rocky');
    assert.equal(f.hostname, 'standby.example.com');
    assert.equal(f.postgres.clusters[0]!.dataDir, '/var/lib/pgsql/16/data');
  });
});
