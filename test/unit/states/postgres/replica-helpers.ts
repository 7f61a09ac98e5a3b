// Shared by the pg_make_replica tests: render the template from this repository with a typical context.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRenderEnv, renderTemplate } from '../../../../src/render/env.js';
import {
  REPLICA_TEMPLATE,
  replicaTemplateContext,
  type ReplicaScriptInput,
} from '../../../../src/states/postgres/replica-context.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A Debian-like PostgreSQL 15 input; override what a test is about. */
export function sampleInput(over: Partial<ReplicaScriptInput> = {}): ReplicaScriptInput {
  return {
    primaryHost: 'db1.example.com',
    primaryPort: 5432,
    replicationUser: 'replicator',
    slot: 'db2_slot',
    version: '15',
    dataDir: '/var/lib/postgresql/15/main',
    binDir: '/usr/lib/postgresql/15/bin',
    pgUser: 'postgres',
    pgGroup: 'postgres',
    serviceStart: ['systemctl', 'start', 'postgresql@15-main'],
    serviceStop: ['systemctl', 'stop', 'postgresql@15-main'],
    serviceStatus: ['systemctl', 'status', 'postgresql@15-main'],
    pgpass: '/var/lib/postgresql/.pgpass',
    force: false,
    minFreeMb: 100,
    freebsd: false,
    ...over,
  };
}

/** Render pg_make_replica for an input. */
export function renderReplicaScript(input: ReplicaScriptInput): string {
  const env = createRenderEnv(repoRoot);
  return renderTemplate(env, REPLICA_TEMPLATE, replicaTemplateContext(input), {
    file: `templates/${REPLICA_TEMPLATE}`,
    host: 'db2.example.com',
  });
}
