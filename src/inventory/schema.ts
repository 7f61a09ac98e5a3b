// The shape of one inventory file, as zod schemas. Unknown keys are errors so typos are never silently ignored.
// Semantics (defaults, group membership, var merging) live in load.ts; this file only says what is allowed.
import { z } from 'zod';

const name = z.string().min(1);
const port = z.number().int().min(1).max(65535);
const become = z.union([z.boolean(), z.strictObject({ user: name })], {
  error: 'expected true, false or { user: <name> }',
});
const vars = z.record(z.string(), z.unknown());

export const defaultsSchema = z.strictObject({
  user: name.optional(),
  port: port.optional(),
  identity: name.optional(),
  become: become.optional(),
  proxy_jump: name.optional(),
});

export const hostSchema = z
  .strictObject({
    address: name.optional(),
    port: port.optional(),
    user: name.optional(),
    identity: name.optional(),
    become: become.optional(),
    // Jump hosts, as ssh's ProxyJump: `[user@]host[:port]`, comma-separated; `none` ignores ssh_config's.
    proxy_jump: name.optional(),
    groups: z.array(name).optional(),
    vars: vars.optional(),
    // Written by `orch lab` on its own hosts: they are dialled only over the lab's bridge.
    lab: z.boolean().optional(),
  })
  .nullable();

export const groupSchema = z
  .strictObject({
    vars: vars.optional(),
    hosts: z.array(name).optional(),
  })
  .nullable();

export const inventoryFileSchema = z
  .strictObject({
    defaults: defaultsSchema.optional(),
    hosts: z.record(z.string(), hostSchema).nullable().optional(),
    groups: z.record(z.string(), groupSchema).nullable().optional(),
  })
  .nullable();

export type InventoryFileDoc = z.infer<typeof inventoryFileSchema>;
export type HostDoc = NonNullable<z.infer<typeof hostSchema>>;
export type DefaultsDoc = z.infer<typeof defaultsSchema>;
export type BecomeDoc = z.infer<typeof become>;
