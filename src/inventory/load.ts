// Loads the inventory: every *.yaml / *.yml file in each inventory path (a file or a directory, read in name order,
// not recursive), validated, with defaults applied, group membership resolved and vars merged. Read-only.
//
// Rules: `defaults` apply to the hosts of the same file. A host's groups are its own `groups:` list followed by the
// groups that list it under `groups.<name>.hosts`, in the order they are declared. Host vars = the vars of those
// groups in that order, deep-merged, then the host's own vars (later wins, lists replaced).
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '../config/project.js';
import { InputError } from '../errors.js';
import { deepMerge } from '../pillar/merge.js';
import { lineOf, loadYamlFile } from '../render/yaml.js';
import { readForeignInventory } from './foreign.js';
import { applySshConfig, readSshConfig, type GivenFields } from './ssh-config.js';
import { checkInventoryDoc } from './check.js';
import type { BecomeDoc, DefaultsDoc, HostDoc } from './schema.js';
import type { BecomeSpec, HostSpec, Inventory } from './types.js';

interface GroupDecl {
  vars?: Record<string, unknown>;
  varsFrom?: string;
  hosts: { name: string; file: string; line?: number }[];
}

// `!`, `&` and `=` are target syntax (exclusion, intersection, var/fact match).
const BAD_NAME = /[\s,*?[\]!&=]/;

/** Read, validate and resolve every inventory file of the project. */
export function loadInventory(project: ProjectConfig): Inventory {
  const hosts = new Map<string, HostSpec>();
  const ownGroups = new Map<string, string[]>();
  const groupDecls = new Map<string, GroupDecl>();
  const hostVars = new Map<string, Record<string, unknown>>();
  const given = new Map<string, GivenFields>();

  for (const file of inventoryFiles(project)) {
    const display = displayPath(project.root, file);
    // Ansible INI/YAML and salt-ssh rosters arrive as orch's document, with their own lines (foreign.ts).
    const foreign = readForeignInventory(file, display);
    const raw = foreign ? foreign.doc : loadYamlFile(file, { display });
    const doc = checkInventoryDoc(raw, display);
    if (!doc) continue;
    const rawHosts = (raw as { hosts?: object }).hosts;
    for (const [name, entry] of Object.entries(doc.hosts ?? {})) {
      const line = foreign ? foreign.hostLines.get(name) : rawHosts ? lineOf(rawHosts, name) : undefined;
      checkName(name, 'host', display, line);
      const prev = hosts.get(name);
      if (prev) {
        throw new InputError(
          'INVENTORY_ERROR',
          `host ${name} is defined twice: here and in ${where(prev.source)}`,
          { file: display, line },
        );
      }
      const spec = hostSpec(project.root, name, entry ?? {}, doc.defaults ?? {}, { file: display, line });
      if (entry?.lab === true || usesLabKey(project, spec)) spec.lab = true;
      hosts.set(name, spec);
      given.set(name, givenFields(entry ?? {}, doc.defaults ?? {}));
      ownGroups.set(name, unique(entry?.groups ?? []));
      hostVars.set(name, entry?.vars ?? {});
    }
    const rawGroups = (raw as { groups?: object }).groups;
    for (const [group, decl] of Object.entries(doc.groups ?? {})) {
      const line = foreign ? foreign.groupLines.get(group) : rawGroups ? lineOf(rawGroups, group) : undefined;
      checkName(group, 'group', display, line);
      const known = groupDecls.get(group) ?? { hosts: [] };
      if (decl?.vars) {
        if (known.vars) {
          throw new InputError(
            'INVENTORY_ERROR',
            `vars of group ${group} are set twice: here and in ${known.varsFrom}`,
            {
              file: display,
              line,
            },
          );
        }
        known.vars = decl.vars;
        known.varsFrom = line ? `${display}:${line}` : display;
      }
      const rawList = (rawGroups as Record<string, { hosts?: object } | null> | undefined)?.[group]?.hosts;
      (decl?.hosts ?? []).forEach((h, i) => {
        known.hosts.push({ name: h, file: display, line: rawList ? (lineOf(rawList, i) ?? line) : line });
      });
      groupDecls.set(group, known);
    }
  }

  applySshConfig(hosts, given, project.sshConfigFile ? readSshConfig(project.sshConfigFile) : undefined);

  // Extra membership from groups.<name>.hosts, after every file is read (a group may list hosts of other files).
  const extraGroups = new Map<string, string[]>();
  for (const [group, decl] of groupDecls) {
    for (const member of decl.hosts) {
      if (!hosts.has(member.name)) {
        throw new InputError('INVENTORY_ERROR', `groups.${group}.hosts: unknown host ${member.name}`, {
          file: member.file,
          line: member.line,
        });
      }
      const list = extraGroups.get(member.name) ?? [];
      list.push(group);
      extraGroups.set(member.name, list);
    }
  }

  const groups = new Map<string, string[]>();
  for (const group of groupDecls.keys()) groups.set(group, []);
  for (const [name, spec] of hosts) {
    spec.groups = unique([...(ownGroups.get(name) ?? []), ...(extraGroups.get(name) ?? [])]);
    for (const g of spec.groups) {
      const members = groups.get(g) ?? [];
      members.push(name);
      groups.set(g, members);
    }
    const layers = spec.groups.map((g) => groupDecls.get(g)?.vars ?? {});
    spec.vars = deepMerge(...layers, hostVars.get(name) ?? {});
  }
  return { hosts, groups };
}

/** The inventory files to read, in order: each path as given, directories listed by name. */
export function inventoryFiles(project: ProjectConfig): string[] {
  const files: string[] = [];
  const defaultDir = path.join(project.root, 'inventory');
  for (const p of project.inventoryPaths) {
    if (!existsSync(p)) {
      const message =
        p === defaultDir
          ? `no inventory: ${p} does not exist (create inventory/hosts.yaml, or pass --inventory <file|dir>)`
          : `inventory path not found: ${p}`;
      throw new InputError('INVENTORY_ERROR', message);
    }
    if (statSync(p).isDirectory()) {
      const inDir = readdirSync(p)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => path.join(p, f))
        .filter((f) => statSync(f).isFile());
      if (inDir.length === 0)
        throw new InputError('INVENTORY_ERROR', `no *.yaml or *.yml files in inventory directory ${p}`);
      files.push(...inDir);
    } else {
      files.push(p);
    }
  }
  return files;
}

/**
 * Whether a host logs in with the key `orch lab` exports (<stateDir>/lab/id_ed25519, see src/lab/export.ts): such a
 * host is a lab host even without `lab: true` (this repository's inventory/hosts.yaml, or a lab export written
 * before the mark existed).
 */
function usesLabKey(project: ProjectConfig, spec: HostSpec): boolean {
  return spec.identity === path.resolve(project.stateDir, 'lab', 'id_ed25519');
}

/** A file path as shown to users: relative to the project root when inside it. */
export function displayPath(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function hostSpec(
  root: string,
  name: string,
  entry: HostDoc,
  defaults: DefaultsDoc,
  source: { file: string; line?: number },
): HostSpec {
  const identity = entry.identity ?? defaults.identity;
  const become = becomeSpec(entry.become ?? defaults.become);
  const spec: HostSpec = {
    name,
    address: entry.address ?? name,
    port: entry.port ?? defaults.port ?? 22,
    user: entry.user ?? defaults.user ?? 'root',
    groups: [],
    vars: {},
    source,
  };
  if (identity) spec.identity = resolveIdentity(root, identity);
  if (become) spec.become = become;
  return spec;
}

/** What the inventory wrote for the host's connection (its entry or its file's defaults): ssh_config fills the rest. */
function givenFields(entry: HostDoc, defaults: DefaultsDoc): GivenFields {
  const g: GivenFields = {
    address: entry.address !== undefined,
    port: (entry.port ?? defaults.port) !== undefined,
    user: (entry.user ?? defaults.user) !== undefined,
    identity: (entry.identity ?? defaults.identity) !== undefined,
  };
  const jump = entry.proxy_jump ?? defaults.proxy_jump;
  if (jump !== undefined) g.proxyJump = jump;
  return g;
}

function becomeSpec(doc: BecomeDoc | undefined): BecomeSpec | undefined {
  if (doc === undefined || doc === false) return undefined;
  if (doc === true) return { method: 'sudo', user: 'root' };
  return { method: doc.method ?? 'sudo', user: doc.user ?? 'root' };
}

/** `~` and `~/x` resolve against $HOME, relative paths against the project root. */
export function resolveIdentity(root: string, p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(root, p);
}

function checkName(name: string, kind: 'host' | 'group', file: string, line: number | undefined): void {
  if (name.length === 0 || BAD_NAME.test(name) || name.startsWith('group:')) {
    throw new InputError(
      'INVENTORY_ERROR',
      `${kind} name '${name}' is not allowed (no spaces, commas, glob characters * ? [ ], target characters ! & = or 'group:' prefix)`,
      { file, line },
    );
  }
}

function where(source: { file: string; line?: number }): string {
  return source.line ? `${source.file}:${source.line}` : source.file;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
