// The formula's replication settings rendered for each PostgreSQL version it supports: the WAL retention setting
// takes the name the version knows (a wrong one stops the server from starting), the slot WAL cap only where it exists.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { postgresLayout } from '../../../../src/facts/os/index.js';
import { parseFacts } from '../../../../src/facts/parse.js';
import { includeContent, versionSettings } from '../../../../src/states/postgres/conf.js';
import { createRenderEnv } from '../../../../src/render/env.js';
import { parseYaml } from '../../../../src/render/yaml.js';
import { REPO_ROOT } from '../../../helpers/cli.js';

function formulaSettings(): Record<string, string | number> {
  const text = readFileSync(path.join(REPO_ROOT, 'pillar/postgres.yaml'), 'utf8').replace(/!secret \S+/, 'x');
  const debian = { ...parseFacts(''), osFamily: 'Debian' as const, pkgTool: 'apt' as const };
  const rendered = createRenderEnv(REPO_ROOT).renderString(text, {
    facts_get: () => 'Debian',
    os_postgres: (v: string) => postgresLayout(debian, String(v)),
  });
  return (
    parseYaml(rendered, 'pillar/postgres.yaml') as { postgres: { settings: Record<string, string | number> } }
  ).postgres.settings;
}

function render(version: number): string {
  return includeContent(versionSettings(formulaSettings(), version).settings);
}

describe('postgres.conf: the formula rendered per version', () => {
  for (const v of [10, 12]) {
    it(`PostgreSQL ${v}: wal_keep_segments, no wal_keep_size, no max_slot_wal_keep_size`, () => {
      const conf = render(v);
      assert.match(conf, /^wal_keep_segments = 16$/m);
      assert.doesNotMatch(conf, /wal_keep_size|max_slot_wal_keep_size/);
      assert.match(conf, /^wal_level = 'replica'$/m);
      assert.match(conf, /^hot_standby = 'on'$/m);
      assert.match(conf, /^wal_log_hints = 'on'$/m);
      assert.match(conf, /^listen_addresses = '\*'$/m);
    });
  }
  for (const v of [13, 15]) {
    it(`PostgreSQL ${v}: wal_keep_size and max_slot_wal_keep_size, never wal_keep_segments`, () => {
      const conf = render(v);
      assert.match(conf, /^wal_keep_size = 256$/m);
      assert.match(conf, /^max_slot_wal_keep_size = 1024$/m);
      assert.doesNotMatch(conf, /wal_keep_segments/);
      assert.match(conf, /^max_wal_senders = 10$/m);
    });
  }
  it('translates sizes with units and refuses what it cannot translate', () => {
    assert.deepEqual(versionSettings({ wal_keep_size: '1GB' }, 12).settings, [['wal_keep_segments', 64]]);
    assert.deepEqual(versionSettings({ wal_keep_segments: 8 }, 15).settings, [['wal_keep_size', '128MB']]);
    assert.throws(() => versionSettings({ wal_keep_size: 'lots' }, 11), /cannot be translated/);
  });
});
