// Inventories of other tools, read with `-i <file>` like orch's own: Ansible INI and YAML (ansible.ts) and a
// salt-ssh roster (roster.ts). Each becomes orch's inventory document, which then meets the same schema,
// names check and resolution as an orch file. Which format a file is: INI when it is not YAML-shaped (a `[group]`
// header or `host key=value` lines), a roster when named `roster` or when each entry has `host:`, Ansible YAML
// when its top keys are groups with hosts/vars/children, else orch's own (defaults/hosts/groups).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { loadYamlFile } from '../render/yaml.js';
import { readAnsibleIni, readAnsibleYaml } from './ansible.js';
import { readRoster } from './roster.js';

export interface ForeignInventory {
  /** orch's inventory document (hosts, groups). */
  doc: Record<string, unknown>;
  hostLines: Map<string, number>;
  groupLines: Map<string, number>;
}

const ORCH_KEYS = new Set(['defaults', 'hosts', 'groups']);

function isIni(file: string, text: string): boolean {
  if (/\.ini$/i.test(file)) return true;
  if (/\.ya?ml$/i.test(file)) return false;
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
  if (first === undefined || /^[^\s:]+:(\s|$)/.test(first) || first.trim() === '---') return false;
  return /^\s*\[[^\]]+\]\s*$/.test(first) || /^\S+(\s+\S+=\S*)*\s*$/.test(first);
}

/** The file as another tool's inventory, translated; undefined when it is orch's own format. */
export function readForeignInventory(file: string, display: string): ForeignInventory | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // loadYamlFile reports it as orch's own error
  }
  if (isIni(file, text)) return readAnsibleIni(text, file, display);
  const doc = loadYamlFile(file, { display });
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const top = doc as Record<string, unknown>;
  const keys = Object.keys(top);
  const entries = Object.values(top);
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const rosterLike =
    path.basename(file) === 'roster' ||
    (entries.length > 0 && entries.every((v) => isMap(v) && 'host' in (v as object)));
  if (rosterLike) return readRoster(top, display);
  if (keys.every((k) => ORCH_KEYS.has(k))) return undefined;
  const groupLike = entries.every(
    (v) =>
      v === null ||
      (isMap(v) && Object.keys(v as object).every((k) => ['hosts', 'vars', 'children'].includes(k))),
  );
  // `all` is Ansible's root group: its file is Ansible's even when a key in it is wrong (reported there).
  if (groupLike || 'all' in top) return readAnsibleYaml(top, file, display);
  throw new InputError(
    'INVENTORY_ERROR',
    `not an inventory orch reads: top keys ${keys.join(', ')} (orch: defaults, hosts, groups; Ansible: groups with hosts/vars/children; a salt-ssh roster: ids with host:)`,
    { file: display },
  );
}
