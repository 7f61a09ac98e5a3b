// The formula's settings rendered by templates/postgres/postgresql.conf.njk through the real compile, for each
// PostgreSQL version it supports: the WAL retention setting takes the name the version knows (a wrong one stops the
// server from starting), the slot WAL cap only where it exists.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../../../src/config/project.js';
import { compileHost } from '../../../../src/engine/compile.js';
import { parseFacts } from '../../../../src/facts/parse.js';
import { loadInventory } from '../../../../src/inventory/load.js';
import { compilePillar } from '../../../../src/pillar/load.js';
import { createRenderEnv } from '../../../../src/render/env.js';
import type { SecretResolver } from '../../../../src/secrets/ref.js';
import { versionSettings } from '../../../../src/states/postgres/conf.js';
import { REPO_ROOT } from '../../../helpers/cli.js';

const resolver: SecretResolver = { decrypt: async () => 'conf-versions-password' };

/** The include file the formula writes on the Debian primary when the pillar says PostgreSQL `version`. */
async function render(version: number): Promise<string> {
  const project = loadProject({ root: REPO_ROOT });
  const host = loadInventory(project).hosts.get('primary.example.com')!;
  const facts = parseFacts(
    readFileSync(path.join(REPO_ROOT, 'test/fixtures/facts/debian12-pg15-running.txt'), 'utf8'),
  );
  const pillar = await compilePillar(project, host, { resolver, facts });
  (pillar.postgres as Record<string, unknown>).version = String(version);
  const c = compileHost({ root: REPO_ROOT, env: createRenderEnv(REPO_ROOT), host, facts, pillar });
  const state = c.states.find((s) => s.decl.id === 'postgres_settings')!;
  assert.equal(state.args.source, 'postgres/postgresql.conf.njk');
  return (state.prepared as { content: string }).content;
}

describe('postgres.conf: the formula template rendered per version', () => {
  for (const v of [10, 12]) {
    it(`PostgreSQL ${v}: wal_keep_segments, no wal_keep_size, no max_slot_wal_keep_size`, async () => {
      const conf = await render(v);
      assert.match(conf, /^wal_keep_segments = 16 {2}# orch: translated from wal_keep_size/m);
      assert.doesNotMatch(conf, /^wal_keep_size/m);
      assert.match(
        conf,
        /^# orch: left out, PostgreSQL \d+ does not have it: max_slot_wal_keep_size = 1024$/m,
      );
      assert.doesNotMatch(conf, /^max_slot_wal_keep_size/m);
      assert.match(conf, /^wal_level = 'replica'$/m);
      assert.match(conf, /^hot_standby = 'on'$/m);
      assert.match(conf, /^wal_log_hints = 'on'$/m);
      assert.match(conf, /^listen_addresses = '\*'$/m);
    });
  }
  for (const v of [13, 15, 17]) {
    it(`PostgreSQL ${v}: wal_keep_size and max_slot_wal_keep_size as written, never wal_keep_segments`, async () => {
      const conf = await render(v);
      assert.match(conf, /^wal_keep_size = 256$/m);
      assert.match(conf, /^max_slot_wal_keep_size = 1024$/m);
      assert.doesNotMatch(conf, /^wal_keep_segments|# orch: /m);
      assert.match(conf, /^max_wal_senders = 10$/m);
      assert.match(conf, new RegExp(`^# The version rules .* on PostgreSQL ${v} `, 'm'));
    });
  }
  it('translates sizes with units and refuses what it cannot translate', () => {
    assert.deepEqual(versionSettings({ wal_keep_size: '1GB' }, 12).settings, [['wal_keep_segments', 64]]);
    assert.deepEqual(versionSettings({ wal_keep_segments: 8 }, 15).settings, [['wal_keep_size', '128MB']]);
    assert.throws(() => versionSettings({ wal_keep_size: 'lots' }, 11), /cannot be translated/);
  });
});
