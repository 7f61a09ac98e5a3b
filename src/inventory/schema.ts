// The shape of one inventory file, as zod schemas. Unknown keys are errors so typos are never silently ignored.
// Semantics (defaults, group membership, var merging) live in load.ts; this file only says what is allowed. The
// schemas are built from whichever zod instance the caller has (the docs' import, or zodNow() when a file fails
// the cheap check in check.ts).
import type { z } from 'zod';
import type { ZodApi } from '../config/zod-now.js';

/** The inventory schemas, built with `z`. */
export function buildInventorySchemas(z: ZodApi) {
  const name = z.string().min(1);
  const port = z.number().int().min(1).max(65535);
  // sudo(8) -n or doas(1) -n (FreeBSD's base has neither; doas is the smaller port): never a password prompt.
  const become = z.union(
    [z.boolean(), z.strictObject({ user: name.optional(), method: z.enum(['sudo', 'doas']).optional() })],
    { error: 'expected true, false or { user: <name>, method: sudo | doas }' },
  );
  const vars = z.record(z.string(), z.unknown());

  // The descriptions are the reference of docs/INVENTORY.md (npm run docs).
  const defaultsSchema = z.strictObject({
    user: name.optional().describe('SSH user of the hosts of this file (default root)'),
    port: port.optional().describe('SSH port (default 22)'),
    identity: name
      .optional()
      .describe('private key file, relative to the project root (default: ssh-agent via SSH_AUTH_SOCK)'),
    become: become
      .optional()
      .describe(
        'become another user without a password: true (sudo to root) or { user: <name> (root), method: sudo | doas (sudo) }',
      ),
    proxy_jump: name
      .optional()
      .describe(
        "jump hosts, as ssh's ProxyJump: [user@]host[:port], comma-separated; none ignores ssh_config's",
      ),
  });

  const hostSchema = z
    .strictObject({
      address: name.optional().describe('IP or DNS name to connect to (default: the host name)'),
      port: port.optional().describe('SSH port (default: defaults.port, else 22)'),
      user: name.optional().describe('SSH user (default: defaults.user, else root)'),
      identity: name.optional().describe('private key file (default: defaults.identity, else ssh-agent)'),
      become: become
        .optional()
        .describe(
          'become another user without a password: true (sudo to root) or { user: <name> (root), method: sudo | doas (sudo) }',
        ),
      proxy_jump: name
        .optional()
        .describe(
          "jump hosts, as ssh's ProxyJump: [user@]host[:port], comma-separated; none ignores ssh_config's",
        ),
      groups: z.array(name).optional().describe('groups the host is in (targets: group:<name>)'),
      vars: vars
        .optional()
        .describe("the host's vars (templates: vars; targets: key=value), over its groups' vars"),
      // Written by `orch lab` on its own hosts: they are dialled only over the lab's bridge.
      lab: z.boolean().optional().describe("written by orch lab: dialled only over the lab's bridge"),
    })
    .nullable();

  const groupSchema = z
    .strictObject({
      vars: vars.optional().describe('vars of every host in the group (a later group wins, lists replaced)'),
      hosts: z.array(name).optional().describe('more members, besides the hosts that list the group'),
    })
    .nullable();

  const inventoryFileSchema = z
    .strictObject({
      defaults: defaultsSchema.optional(),
      hosts: z.record(z.string(), hostSchema).nullable().optional(),
      groups: z.record(z.string(), groupSchema).nullable().optional(),
    })
    .nullable();

  return { defaultsSchema, hostSchema, groupSchema, inventoryFileSchema, become };
}

type Schemas = ReturnType<typeof buildInventorySchemas>;

export type InventoryFileSchema = Schemas['inventoryFileSchema'];
export type InventoryFileDoc = z.infer<Schemas['inventoryFileSchema']>;
export type HostDoc = NonNullable<z.infer<Schemas['hostSchema']>>;
export type DefaultsDoc = z.infer<Schemas['defaultsSchema']>;
export type BecomeDoc = z.infer<Schemas['become']>;
