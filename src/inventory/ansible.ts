// Ansible inventories (INI and YAML) as orch's inventory document, so they go through the same validation and
// resolution as orch's own files (load.ts). Ansible's meanings, from its inventory guide:
// - groups, `[g:children]` / `children:` (a host of a child group is in the parent too), `[g:vars]` / `vars:`,
//   inline host vars, every host in `all`, hosts of no group in `ungrouped`;
// - var precedence: all < parent group < child group (by depth, then name) < host; group_vars/ and host_vars/
//   beside the inventory file override the inventory's own group and host vars;
// - connection vars become the host's fields: ansible_host, ansible_port, ansible_user,
//   ansible_ssh_private_key_file, ansible_become(_user); a password or another connection type is refused;
// - ranges in host names: db[01:10] (width kept), [a:f], [1:10:2]; `name:port` in INI.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { lineOf, loadYamlFile } from '../render/yaml.js';
import type { ForeignInventory } from './foreign.js';

interface HostDecl {
  vars: Record<string, unknown>;
  line?: number;
}
interface GroupDecl {
  vars: Record<string, unknown>;
  children: string[];
  hosts: string[];
  line?: number;
}

class Builder {
  readonly hosts = new Map<string, HostDecl>();
  readonly groups = new Map<string, GroupDecl>();
  constructor(readonly file: string) {}

  group(name: string, line?: number): GroupDecl {
    let g = this.groups.get(name);
    if (!g) {
      g = { vars: {}, children: [], hosts: [], line };
      this.groups.set(name, g);
    }
    return g;
  }

  host(pattern: string, group: string, vars: Record<string, unknown>, line?: number): void {
    for (const name of expandRange(pattern, this.file, line)) {
      const h = this.hosts.get(name) ?? { vars: {}, line };
      Object.assign(h.vars, vars);
      this.hosts.set(name, h);
      const g = this.group(group, line);
      if (!g.hosts.includes(name)) g.hosts.push(name);
    }
  }
}

/** `db[01:03]x` -> db01x db02x db03x; `[a:c]` letters; `[1:9:2]` a stride. Several ranges multiply. */
export function expandRange(pattern: string, file: string, line?: number): string[] {
  const m = /^(.*?)\[([^\]:]+):([^\]:]+)(?::(\d+))?\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head, from, to, step, tail] = m as unknown as [
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const stride = step === undefined ? 1 : Number(step);
  const bad = () =>
    new InputError('INVENTORY_ERROR', `host range '${pattern}': expected [01:10], [a:f] or [1:10:2]`, {
      file,
      line,
    });
  const items: string[] = [];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.length;
    if (Number(to) < Number(from) || stride < 1) throw bad();
    for (let i = Number(from); i <= Number(to); i += stride) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/i.test(from) && /^[a-z]$/i.test(to)) {
    if (to < from || stride < 1) throw bad();
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += stride) items.push(String.fromCharCode(c));
  } else throw bad();
  return items.flatMap((i) => expandRange(`${head}${i}${tail}`, file, line));
}

/** An inline INI value as Ansible reads it (a Python literal: numbers, True/False, quoted strings), else the text. */
function iniValue(v: string, literal: boolean): unknown {
  if (/^(['"]).*\1$/.test(v)) return v.slice(1, -1);
  if (!literal) return v;
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  if (/^(True|true)$/.test(v)) return true;
  if (/^(False|false)$/.test(v)) return false;
  if (v === 'None') return null;
  return v;
}

/** Split a line shell-like: words, `'...'` and `"..."` kept together. */
function words(line: string): string[] {
  return [...line.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)].map((m) => m[0]);
}

function keyValues(items: string[], file: string, line: number, literal: boolean): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new InputError('INVENTORY_ERROR', `expected key=value, found '${item}'`, { file, line });
    vars[item.slice(0, eq)] = iniValue(item.slice(eq + 1), literal);
  }
  return vars;
}

/** Read an Ansible INI inventory. */
export function readAnsibleIni(text: string, file: string, display: string): ForeignInventory {
  const b = new Builder(display);
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) return;
    const sec = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(l);
    if (sec) {
      section = { group: sec[1]!, kind: (sec[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      b.group(section.group, line);
      return;
    }
    if (l.startsWith('['))
      throw new InputError('INVENTORY_ERROR', `not a section header: ${l}`, { file: display, line });
    if (section.kind === 'vars') {
      Object.assign(b.group(section.group).vars, keyValues(words(l), display, line, false));
    } else if (section.kind === 'children') {
      const g = b.group(section.group);
      b.group(l, g.line);
      if (!g.children.includes(l)) g.children.push(l);
    } else {
      const [name, ...rest] = words(l);
      const vars = keyValues(rest, display, line, true);
      // `host:port` (not a range's colon, not IPv6 in brackets)
      const hp = /^([^[\]:]+(?:\[[^\]]*\][^[\]:]*)*):(\d+)$/.exec(name!);
      if (hp && vars.ansible_port === undefined) vars.ansible_port = Number(hp[2]);
      b.host(hp ? hp[1]! : name!, section.group, vars, line);
    }
  });
  return finish(b, path.dirname(file));
}

/** Read an Ansible YAML inventory (already parsed). */
export function readAnsibleYaml(
  doc: Record<string, unknown>,
  file: string,
  display: string,
): ForeignInventory {
  const b = new Builder(display);
  const visit = (name: string, body: unknown, line: number | undefined) => {
    const g = b.group(name, line);
    if (body === null || body === undefined) return;
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new InputError(
        'INVENTORY_ERROR',
        `group ${name}: expected a mapping of hosts, vars and children`,
        {
          file: display,
          line,
        },
      );
    }
    const obj = body as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!['hosts', 'vars', 'children'].includes(key))
        throw new InputError(
          'INVENTORY_ERROR',
          `group ${name}: unknown key '${key}' (hosts, vars, children)`,
          {
            file: display,
            line: lineOf(obj, key) ?? line,
          },
        );
    }
    if (obj.vars !== undefined && obj.vars !== null)
      Object.assign(g.vars, mapping(obj.vars, `group ${name} vars`, display, line));
    const hosts =
      obj.hosts === null || obj.hosts === undefined
        ? {}
        : mapping(obj.hosts, `group ${name} hosts`, display, line);
    for (const [h, v] of Object.entries(hosts)) {
      const hv = v === null || v === undefined ? {} : mapping(v, `host ${h}`, display, line);
      b.host(h, name, hv, lineOf(hosts, h) ?? line);
    }
    const children =
      obj.children === null || obj.children === undefined
        ? {}
        : mapping(obj.children, `group ${name} children`, display, line);
    for (const [c, cb] of Object.entries(children)) {
      if (!g.children.includes(c)) g.children.push(c);
      visit(c, cb, lineOf(children, c) ?? line);
    }
  };
  for (const [name, body] of Object.entries(doc)) visit(name, body, lineOf(doc, name));
  return finish(b, path.dirname(file));
}

function mapping(v: unknown, what: string, file: string, line?: number): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new InputError('INVENTORY_ERROR', `${what}: expected a mapping`, { file, line });
  return v as Record<string, unknown>;
}

/** Vars files of group_vars/<name>(.yml|.yaml|/) or host_vars/<name> beside the inventory, merged in name order. */
function varsFiles(dir: string, kind: 'group_vars' | 'host_vars', name: string): Record<string, unknown> {
  const base = path.join(dir, kind, name);
  const files: string[] = [];
  for (const f of [base, `${base}.yml`, `${base}.yaml`])
    if (existsSync(f) && statSync(f).isFile()) files.push(f);
  if (existsSync(base) && statSync(base).isDirectory()) {
    for (const f of readdirSync(base).sort()) if (/\.ya?ml$/.test(f)) files.push(path.join(base, f));
  }
  const out: Record<string, unknown> = {};
  for (const f of files) {
    const doc = loadYamlFile(f);
    if (doc === null) continue;
    Object.assign(out, mapping(doc, `${kind} file`, f));
  }
  return out;
}

const CONNECTION_KEYS = new Set([
  'ansible_host',
  'ansible_ssh_host',
  'ansible_port',
  'ansible_ssh_port',
  'ansible_user',
  'ansible_ssh_user',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_become',
  'ansible_become_user',
  'ansible_become_method',
  'ansible_connection',
]);
const REFUSED_KEYS = new Set([
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
]);

function depthOf(b: Builder): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const parents = new Map<string, string[]>();
  for (const [g, d] of b.groups) for (const c of d.children) parents.set(c, [...(parents.get(c) ?? []), g]);
  const of = (g: string, seen: Set<string>): number => {
    if (depth.has(g)) return depth.get(g)!;
    if (seen.has(g))
      throw new InputError('INVENTORY_ERROR', `group ${g} is its own child`, {
        file: b.file,
        line: b.groups.get(g)?.line,
      });
    seen.add(g);
    const ps = parents.get(g) ?? [];
    const d = ps.length ? Math.max(...ps.map((p) => of(p, seen))) + 1 : 1;
    depth.set(g, d);
    return d;
  };
  for (const g of b.groups.keys()) of(g, new Set());
  return depth;
}

function finish(b: Builder, dir: string): ForeignInventory {
  b.group('all');
  const depth = depthOf(b);
  // Membership through children: a host of a child is in every ancestor.
  const members = new Map<string, Set<string>>();
  const collect = (g: string, seen: Set<string>): Set<string> => {
    if (members.has(g)) return members.get(g)!;
    const decl = b.groups.get(g)!;
    const set = new Set(decl.hosts);
    for (const c of decl.children)
      if (!seen.has(c)) for (const h of collect(c, new Set([...seen, g]))) set.add(h);
    members.set(g, set);
    return set;
  };
  for (const g of b.groups.keys()) collect(g, new Set());
  const groupVars = new Map<string, Record<string, unknown>>();
  for (const [g, decl] of b.groups) groupVars.set(g, { ...decl.vars, ...varsFiles(dir, 'group_vars', g) });

  const hosts: Record<string, unknown> = {};
  const lines = new Map<string, number>();
  const groupLines = new Map<string, number>();
  for (const [name, decl] of b.hosts) {
    let groups = [...b.groups.keys()].filter((g) => g === 'all' || members.get(g)!.has(name));
    if (!groups.some((g) => g !== 'all' && g !== 'ungrouped'))
      groups = [...new Set([...groups, 'ungrouped'])];
    groups.sort(
      (x, y) => depth.get(x)! - depth.get(y)! || (x === 'all' ? -1 : y === 'all' ? 1 : x.localeCompare(y)),
    );
    const ownVars = { ...decl.vars, ...varsFiles(dir, 'host_vars', name) };
    const effective: Record<string, unknown> = {};
    for (const g of groups) Object.assign(effective, groupVars.get(g) ?? {});
    Object.assign(effective, ownVars);
    hosts[name] = {
      ...connection(name, effective, b.file, decl.line),
      groups,
      vars: withoutConnection(ownVars),
    };
    if (decl.line) lines.set(name, decl.line);
  }
  const groups: Record<string, unknown> = {};
  for (const [g, decl] of b.groups) {
    const vars = withoutConnection(groupVars.get(g) ?? {});
    groups[g] = Object.keys(vars).length ? { vars } : null;
    if (decl.line) groupLines.set(g, decl.line);
  }
  return { doc: { hosts, groups }, hostLines: lines, groupLines };
}

function withoutConnection(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !CONNECTION_KEYS.has(k)));
}

function connection(
  host: string,
  v: Record<string, unknown>,
  file: string,
  line?: number,
): Record<string, unknown> {
  const where = { file, line };
  for (const k of Object.keys(v)) {
    if (REFUSED_KEYS.has(k))
      throw new InputError(
        'INVENTORY_ERROR',
        `host ${host}: ${k}: orch logs in with keys or the ssh agent, never a password`,
        where,
      );
  }
  const conn = v.ansible_connection;
  if (conn !== undefined && conn !== 'ssh' && conn !== 'smart' && conn !== 'paramiko')
    throw new InputError(
      'INVENTORY_ERROR',
      `host ${host}: ansible_connection=${String(conn)}: orch connects over ssh only`,
      where,
    );
  const out: Record<string, unknown> = {};
  const address = v.ansible_host ?? v.ansible_ssh_host;
  if (address !== undefined) out.address = String(address);
  const port = v.ansible_port ?? v.ansible_ssh_port;
  if (port !== undefined) out.port = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  const user = v.ansible_user ?? v.ansible_ssh_user;
  if (user !== undefined) out.user = String(user);
  const key = v.ansible_ssh_private_key_file ?? v.ansible_private_key_file;
  if (key !== undefined) out.identity = String(key);
  const become = v.ansible_become;
  if (become === true || become === 'true' || become === 'True' || become === 'yes') {
    const method = v.ansible_become_method;
    if (method !== undefined && method !== 'sudo' && method !== 'doas')
      throw new InputError(
        'INVENTORY_ERROR',
        `host ${host}: ansible_become_method=${String(method)}: orch becomes with sudo or doas only`,
        where,
      );
    const spec: Record<string, string> = {};
    if (v.ansible_become_user !== undefined) spec.user = String(v.ansible_become_user);
    if (method === 'doas') spec.method = 'doas';
    out.become = Object.keys(spec).length ? spec : true;
  }
  return out;
}
