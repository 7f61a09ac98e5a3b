// The keys orch.yaml may hold, as a strict schema: a typo (`paralel: 10`) is an error naming the file and the line,
// as in the inventory, instead of a setting silently ignored. docs/ORCH-YAML.md is generated from it.
import { InputError } from '../errors.js';
import { isBool, isFiniteNumber, isMapping, isString, onlyKeys, optional } from './plain.js';
import { buildSettingsSchema, type SettingsSchema } from './settings-schema.js';
import { zodNow } from './zod-now.js';

let schema: SettingsSchema | undefined;

function settingsSchema(): SettingsSchema {
  schema ??= buildSettingsSchema(zodNow());
  return schema;
}

const TOP_KEYS = new Set([
  'inventory',
  'state_dir',
  'known_hosts',
  'parallel',
  'connect_timeout',
  'accept_new_hostkeys',
  'ssh_config',
  'openssh_known_hosts',
  'jobs',
]);
const JOBS_KEYS = new Set(['store', 'lease', 'retention', 'spawn_worker']);
const isDuration = (v: unknown): boolean => isString(v) || isFiniteNumber(v);

/** Whether the schema certainly accepts these settings (false: maybe not; the schema decides and words why). */
export function settingsCertainlyValid(s: unknown): boolean {
  if (!isMapping(s) || !onlyKeys(s, TOP_KEYS)) return false;
  const jobs = s.jobs;
  return (
    optional(s.inventory, isString) &&
    optional(s.state_dir, isString) &&
    optional(s.known_hosts, isString) &&
    optional(s.parallel, (v) => Number.isSafeInteger(v) && (v as number) >= 1) &&
    optional(s.connect_timeout, (v) => isFiniteNumber(v) && v > 0) &&
    optional(s.accept_new_hostkeys, isBool) &&
    optional(s.ssh_config, (v) => isString(v) || v === false) &&
    optional(s.openssh_known_hosts, (v) => isBool(v) || (Array.isArray(v) && v.every(isString))) &&
    (jobs === undefined ||
      (isMapping(jobs) &&
        onlyKeys(jobs, JOBS_KEYS) &&
        optional(jobs.store, isString) &&
        optional(jobs.lease, isDuration) &&
        optional(jobs.retention, isDuration) &&
        optional(jobs.spawn_worker, isBool)))
  );
}

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
  if (settingsCertainlyValid(settings)) return;
  const r = settingsSchema().safeParse(settings);
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
  const shape = path[0] === 'jobs' ? settingsSchema().shape.jobs.unwrap().shape : settingsSchema().shape;
  return Object.keys(shape);
}
