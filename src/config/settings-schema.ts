// The keys orch.yaml may hold, as a strict schema: a typo (`paralel: 10`) is an error naming the file and the line,
// as in the inventory, instead of a setting silently ignored. docs/ORCH-YAML.md is generated from it. The schema
// is built from whichever zod instance the caller has (the CLI's docs, or zodNow() when a file fails the check).
import type { ZodApi } from './zod-now.js';

/** The orch.yaml schema, built with `z`. */
export function buildSettingsSchema(z: ZodApi) {
  const duration = z.union([z.string(), z.number()]);

  return z.strictObject({
    inventory: z
      .string()
      .optional()
      .describe('inventory file or directory, relative to the root (default inventory/)'),
    state_dir: z
      .string()
      .optional()
      .describe("orch's own state: known_hosts, job store, lab files (default .orch)"),
    known_hosts: z
      .string()
      .optional()
      .describe('OpenSSH known_hosts file to check host keys against (default .orch/known_hosts)'),
    parallel: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('hosts worked on at once (default 50; -j overrides)'),
    connect_timeout: z
      .number()
      .positive()
      .optional()
      .describe('seconds to wait for a host to answer when connecting'),
    accept_new_hostkeys: z
      .boolean()
      .optional()
      .describe('record unknown host keys as --accept-new-hostkeys does (a changed key is still refused)'),
    ssh_config: z
      .union([z.string(), z.literal(false)])
      .optional()
      .describe(
        'OpenSSH client config to read, relative to the root, or false for none (default ~/.ssh/config)',
      ),
    openssh_known_hosts: z
      .union([z.boolean(), z.array(z.string())])
      .optional()
      .describe(
        "also trust OpenSSH's known_hosts: true for its default files, or a list of files (default false)",
      ),
    jobs: z
      .strictObject({
        store: z
          .string()
          .optional()
          .describe('"postgres://..." for a shared store, or "sqlite:<path>" (default .orch/jobs.sqlite)'),
        lease: duration
          .optional()
          .describe('how long a job and its host locks are held without a heartbeat (default 60s)'),
        retention: duration
          .optional()
          .describe('age of finished jobs `orch jobs prune` deletes (default 30d)'),
        spawn_worker: z
          .boolean()
          .optional()
          .describe('whether --async starts `orch worker --drain` itself (default true)'),
      })
      .optional()
      .describe('the job store and its workers'),
  });
}

export type SettingsSchema = ReturnType<typeof buildSettingsSchema>;
