// The repository's own pillar/postgres.yaml per host: the PostgreSQL major version follows the host's Debian
// release (bullseye 13, bookworm 15, trixie 17) or an inventory var, and under systemd the service is the cluster's
// own unit rather than Debian's umbrella `postgresql`.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import type { HostSpec } from '../../../src/inventory/types.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { fixture } from '../facts/fixtures.js';
import { projectAt } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const bookworm = parseFacts(fixture('debian12-pg15-running.txt'));
const sysv = parseFacts(fixture('bare-debian12.txt'));
const freebsd = parseFacts(fixture('freebsd14-pg15.txt'));
const release = (osVersion: string, init: Facts['init'] = 'systemd'): Facts => ({
  ...bookworm,
  osVersion,
  init,
});

function host(vars: Record<string, unknown> = {}): HostSpec {
  return {
    name: 'db1.example.com',
    address: '10.0.0.1',
    port: 22,
    user: 'root',
    groups: ['db'],
    vars,
    source: { file: 'inventory/hosts.yaml' },
  };
}

interface PgPillar {
  version: string;
  cluster: string;
  paths: Record<string, string>;
}

async function pg(facts?: Facts, vars?: Record<string, unknown>): Promise<PgPillar> {
  const pillar = await compilePillar(projectAt(REPO), host(vars), facts ? { facts } : {});
  return pillar.postgres as PgPillar;
}

describe('pillar/postgres.yaml per host', () => {
  for (const [osVersion, version] of [
    ['11', '13'],
    ['12', '15'],
    ['13', '17'],
  ] as const) {
    it(`Debian ${osVersion}: PostgreSQL ${version}, its package, paths and cluster unit`, async () => {
      const p = await pg(release(osVersion));
      assert.equal(p.version, version);
      assert.deepEqual(
        [p.paths.package, p.paths.service, p.paths.conf_dir, p.paths.data_dir, p.paths.include_file],
        [
          `postgresql-${version}`,
          `postgresql@${version}-main`,
          `/etc/postgresql/${version}/main`,
          `/var/lib/postgresql/${version}/main`,
          `/etc/postgresql/${version}/main/conf.d/orch-replication.conf`,
        ],
      );
    });
  }

  it('a point release counts as its release (12.5 is bookworm)', async () => {
    assert.equal((await pg(release('12.5'))).version, '15');
  });

  it('an inventory var postgres_version wins over the release', async () => {
    const p = await pg(release('12'), { postgres_version: 17 });
    assert.equal(p.version, '17');
    assert.equal(p.paths.service, 'postgresql@17-main');
  });

  it('without systemd the init script `postgresql` drives the clusters', async () => {
    assert.equal(sysv.init, 'sysvinit');
    const p = await pg(sysv);
    assert.equal(p.paths.service, 'postgresql');
    assert.equal(p.version, '15');
  });

  it('an unknown release or no facts at all fall back to 15; FreeBSD keeps its rc.d name', async () => {
    assert.equal((await pg(release('99'))).version, '15');
    assert.equal((await pg()).version, '15');
    const f = await pg(freebsd);
    assert.deepEqual([f.paths.package, f.paths.service], ['postgresql15-server', 'postgresql']);
  });
});
