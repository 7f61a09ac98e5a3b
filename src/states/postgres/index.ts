// The postgres.* state functions, by registry name. They reach PostgreSQL through the connector (src/pg/:
// connector.ts runs SQL from a step, target.ts picks the cluster); shared pieces here are ./target.ts (the target
// arguments), ./conffile.ts (validated config files) and ./slot.ts (slotQuery).
import type { AnyStateFunction } from '../types.js';
import { postgresConf } from './conf.js';
import { postgresDatabase } from './database.js';
import { postgresHba } from './hba.js';
import { postgresRole } from './role.js';
import { postgresSlot } from './slot.js';
import { postgresOrphanSlots } from './orphan-slots.js';
import { postgresReplica } from './replica.js';
import { postgresRestartGate } from './replica-restarts.js';
import { postgresRewindGrants } from './rewind-grants.js';

export const postgresStates: Record<string, AnyStateFunction> = {
  'postgres.role': postgresRole,
  'postgres.database': postgresDatabase,
  'postgres.hba': postgresHba,
  'postgres.conf': postgresConf,
  'postgres.slot': postgresSlot,
  'postgres.orphan_slots': postgresOrphanSlots,
  'postgres.replica': postgresReplica,
  'postgres.restart_gate': postgresRestartGate,
  'postgres.rewind_grants': postgresRewindGrants,
};
