// The keys orch.yaml may hold, as a strict schema: a typo (`paralel: 10`) is an error naming the file and the line,
// as in the inventory, instead of a setting silently ignored. docs/ORCH-YAML.md is generated from it.
import { z } from 'zod';
import { InputError } from '../errors.js';

const duration = z.union([z.string(), z.number()]);

export const settingsSchema = z.strictObject({
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
  parallel: z.number().int().min(1).optional().describe('hosts worked on at once (default 50; -j overrides)'),
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
      retention: duration.optional().describe('age of finished jobs `orch jobs prune` deletes (default 30d)'),
      spawn_worker: z
        .boolean()
        .optional()
        .describe('whether --async starts `orch worker --drain` itself (default true)'),
    })
    .optional()
    .describe('the job store and its workers'),
});

/** The 1-based line of a key path in YAML text (`jobs.lease`), found by indentation; undefined when not seen. */
function lineOfKey(text: string, keys: readonly (string | number)[]): number | undefined {
  const lines = text.split('\n');
  let from = 0;
  let indent = -1;
  let found: number | undefined;
  for (const key of keys) {
    found = undefined;
    for (let i = from; i < lines.length; i++) {
      const m = /^(\s*)(['"]?)([^'":#]+)\2\s*:/.exec(lines[i]!);
      if (!m) continue;
      if (m[1]!.length <= indent) break;
      if (m[3]!.trim() === String(key)) {
        found = i + 1;
        from = i + 1;
        indent = m[1]!.length;
        break;
      }
    }
    if (found === undefined) return undefined;
  }
  return found;
}

/** Check orch.yaml's parsed contents; the first problem is thrown with file and line. */
export function checkSettings(settings: unknown, text: string, file: string): void {
  const r = settingsSchema.safeParse(settings);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const base = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const where = unknown.length ? [...base, unknown[0]!] : base;
  const name = where.join('.') || '(top)';
  const message = unknown.length
    ? `${name}: unknown key (known: ${knownKeys(base).join(', ')})`
    : `${name}: ${issue.message}`;
  throw new InputError('CONFIG_ERROR', message, { file, line: lineOfKey(text, where) });
}

function knownKeys(path: readonly (string | number)[]): string[] {
  const shape = path[0] === 'jobs' ? settingsSchema.shape.jobs.unwrap().shape : settingsSchema.shape;
  return Object.keys(shape);
}
