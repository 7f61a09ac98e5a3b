// The inventory file check: a cheap exact check accepts what the schema certainly accepts; anything else goes to
// the schema (built on first need), which words the problem with file and line. Valid inventories never load zod.
import { isBool, isMapping, isNonEmpty, onlyKeys, optional } from '../config/plain.js';
import { zodNow } from '../config/zod-now.js';
import { validateDoc } from '../render/validate.js';
import { buildInventorySchemas, type InventoryFileDoc, type InventoryFileSchema } from './schema.js';

let schema: InventoryFileSchema | undefined;

const FILE_KEYS = new Set(['defaults', 'hosts', 'groups']);
const DEFAULTS_KEYS = new Set(['user', 'port', 'identity', 'become', 'proxy_jump']);
const HOST_KEYS = new Set([
  'address',
  'port',
  'user',
  'identity',
  'become',
  'proxy_jump',
  'groups',
  'vars',
  'lab',
]);
const GROUP_KEYS = new Set(['vars', 'hosts']);
const BECOME_KEYS = new Set(['user', 'method']);

const isPort = (v: unknown): boolean =>
  Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
const isNames = (v: unknown): boolean => Array.isArray(v) && v.every(isNonEmpty);

function isBecome(v: unknown): boolean {
  if (isBool(v)) return true;
  return (
    isMapping(v) &&
    onlyKeys(v, BECOME_KEYS) &&
    optional(v.user, isNonEmpty) &&
    optional(v.method, (m) => m === 'sudo' || m === 'doas')
  );
}

/** The fields defaults and hosts share. */
function connectionFieldsValid(v: Record<string, unknown>): boolean {
  return (
    optional(v.user, isNonEmpty) &&
    optional(v.port, isPort) &&
    optional(v.identity, isNonEmpty) &&
    optional(v.become, isBecome) &&
    optional(v.proxy_jump, isNonEmpty)
  );
}

function recordOf(v: unknown, each: (x: unknown) => boolean): boolean {
  if (!isMapping(v)) return false;
  for (const x of Object.values(v)) if (!each(x)) return false;
  return true;
}

function hostValid(v: unknown): boolean {
  if (v === null) return true;
  return (
    isMapping(v) &&
    onlyKeys(v, HOST_KEYS) &&
    optional(v.address, isNonEmpty) &&
    connectionFieldsValid(v) &&
    optional(v.groups, isNames) &&
    optional(v.vars, isMapping) &&
    optional(v.lab, isBool)
  );
}

function groupValid(v: unknown): boolean {
  if (v === null) return true;
  return isMapping(v) && onlyKeys(v, GROUP_KEYS) && optional(v.vars, isMapping) && optional(v.hosts, isNames);
}

/** Whether the inventory file schema certainly accepts `doc` (false: maybe not; the schema decides). */
export function inventoryDocCertainlyValid(doc: unknown): boolean {
  if (doc === null) return true;
  if (!isMapping(doc) || !onlyKeys(doc, FILE_KEYS)) return false;
  const { defaults, hosts, groups } = doc;
  return (
    optional(defaults, (d) => isMapping(d) && onlyKeys(d, DEFAULTS_KEYS) && connectionFieldsValid(d)) &&
    (hosts === undefined || hosts === null || recordOf(hosts, hostValid)) &&
    (groups === undefined || groups === null || recordOf(groups, groupValid))
  );
}

/** The validated document of one inventory file; INVENTORY_ERROR naming file:line when it is not valid. */
export function checkInventoryDoc(raw: unknown, display: string): InventoryFileDoc {
  if (inventoryDocCertainlyValid(raw)) return raw as InventoryFileDoc;
  schema ??= buildInventorySchemas(zodNow()).inventoryFileSchema;
  return validateDoc(schema, raw, display, 'INVENTORY_ERROR');
}
