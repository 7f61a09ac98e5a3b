// posixCksum gives what cksum(1) prints: pg_make_replica's lock and record names depend on it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { posixCksum } from '../../../../src/states/postgres/cksum.js';
import { renderReplicaScript, sampleInput } from './replica-helpers.js';

describe('posixCksum', () => {
  it('matches cksum for empty, ASCII, UTF-8 and long inputs', () => {
    for (const s of ['', 'a', '/var/lib/postgresql/15/main', '/srv/dïr with spaces/é', 'x'.repeat(70000)]) {
      const r = spawnSync('cksum', { input: Buffer.from(s, 'utf8'), encoding: 'utf8' });
      assert.equal(String(posixCksum(s)), r.stdout.split(' ')[0], JSON.stringify(s.slice(0, 40)));
    }
  });

  it('is rendered into pg_make_replica for its data directory', () => {
    const text = renderReplicaScript(sampleInput({ dataDir: '/var/lib/postgresql/15/main/' }));
    const want = spawnSync('cksum', { input: '/var/lib/postgresql/15/main', encoding: 'utf8' }).stdout.split(
      ' ',
    )[0];
    assert.match(text, new RegExp(`^DATA_DIR_CKSUM=${want}$`, 'm'));
  });
});
