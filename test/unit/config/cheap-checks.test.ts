// The cheap checks of orch.yaml and inventory files accept only what their zod schemas accept: for every document
// below, a pass of the cheap check implies a pass of the schema, and the valid ones are passed without the schema.
import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { buildSettingsSchema } from '../../../src/config/settings-schema.js';
import { settingsCertainlyValid } from '../../../src/config/settings.js';
import { inventoryDocCertainlyValid } from '../../../src/inventory/check.js';
import { buildInventorySchemas } from '../../../src/inventory/schema.js';

const settingsSchema = buildSettingsSchema(z);
const { inventoryFileSchema } = buildInventorySchemas(z);

const VALID_SETTINGS: unknown[] = [
  {},
  { inventory: 'inv', state_dir: '.s', known_hosts: 'kh', parallel: 10, connect_timeout: 2.5 },
  { accept_new_hostkeys: true, ssh_config: false, openssh_known_hosts: ['/etc/ssh/ssh_known_hosts'] },
  { ssh_config: 'ssh.cfg', openssh_known_hosts: true },
  { jobs: { store: 'postgres://x/y', lease: '30s', retention: 7, spawn_worker: false } },
  { jobs: {} },
];

const DOUBTFUL_SETTINGS: unknown[] = [
  null,
  [],
  'text',
  { paralel: 10 },
  { parallel: 0 },
  { parallel: 1.5 },
  { parallel: '4' },
  { parallel: Infinity },
  { connect_timeout: 0 },
  { connect_timeout: -1 },
  { inventory: null },
  { ssh_config: true },
  { openssh_known_hosts: [1] },
  { openssh_known_hosts: 'x' },
  { jobs: null },
  { jobs: [] },
  { jobs: { stor: 'x' } },
  { jobs: { lease: true } },
  { jobs: { spawn_worker: 'yes' } },
  { accept_new_hostkeys: 'true' },
];

const VALID_INVENTORIES: unknown[] = [
  null,
  {},
  { hosts: null, groups: null },
  {
    defaults: { user: 'root', port: 22, identity: 'k', become: true, proxy_jump: 'j' },
    hosts: {
      a: { address: '10.0.0.1', port: 2222, groups: ['db'], vars: { x: [1, { y: 2 }] }, lab: true },
      b: null,
      c: { become: { user: 'postgres', method: 'doas' } },
    },
    groups: { db: { vars: { pg: 16 }, hosts: ['c'] }, web: null },
  },
  { defaults: { become: { user: 'u' } }, hosts: { d: { become: false } } },
];

const DOUBTFUL_INVENTORIES: unknown[] = [
  [],
  'x',
  { host: {} },
  { defaults: null },
  { defaults: { user: '' } },
  { defaults: { port: 0 } },
  { defaults: { port: 65536 } },
  { defaults: { port: '22' } },
  { defaults: { become: 'yes' } },
  { defaults: { become: { method: 'su' } } },
  { defaults: { become: { user: 'u', extra: 1 } } },
  { defaults: { address: 'x' } },
  { hosts: [] },
  { hosts: { a: { adress: 'x' } } },
  { hosts: { a: { address: '' } } },
  { hosts: { a: { groups: 'db' } } },
  { hosts: { a: { groups: [''] } } },
  { hosts: { a: { vars: [] } } },
  { hosts: { a: { vars: null } } },
  { hosts: { a: { lab: 'yes' } } },
  { hosts: { a: 'x' } },
  { groups: { g: { hosts: 'a' } } },
  { groups: { g: { members: [] } } },
  { groups: { g: { vars: 1 } } },
];

describe('cheap document checks', () => {
  it('pass every valid orch.yaml without the schema, and nothing the schema refuses', () => {
    for (const s of VALID_SETTINGS) {
      assert.equal(settingsSchema.safeParse(s).success, true, JSON.stringify(s));
      assert.equal(settingsCertainlyValid(s), true, JSON.stringify(s));
    }
    for (const s of DOUBTFUL_SETTINGS) {
      assert.equal(settingsSchema.safeParse(s).success, false, `expected invalid: ${JSON.stringify(s)}`);
      assert.equal(settingsCertainlyValid(s), false, JSON.stringify(s));
    }
  });

  it('pass every valid inventory file without the schema, and nothing the schema refuses', () => {
    for (const d of VALID_INVENTORIES) {
      assert.equal(inventoryFileSchema.safeParse(d).success, true, JSON.stringify(d));
      assert.equal(inventoryDocCertainlyValid(d), true, JSON.stringify(d));
    }
    for (const d of DOUBTFUL_INVENTORIES) {
      assert.equal(inventoryFileSchema.safeParse(d).success, false, `expected invalid: ${JSON.stringify(d)}`);
      assert.equal(inventoryDocCertainlyValid(d), false, JSON.stringify(d));
    }
  });
});
