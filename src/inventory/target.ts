// Targeting: which inventory hosts a target expression names. A target is a comma list of terms; each term is
// an exact host name, a glob (see glob.ts) or `group:<name>`. Pure functions over a loaded Inventory.
import { OrchError } from '../errors.js';
import { globToRegExp, isGlob } from './glob.js';
import type { HostSpec, Inventory } from './types.js';

/** Hosts named by `target` in inventory order, without duplicates; `opts.group` keeps only that group's members. */
export function resolveTargets(inv: Inventory, target: string, opts: { group?: string } = {}): HostSpec[] {
  const terms = splitTarget(target);
  const chosen = new Set<string>();
  for (const term of terms) {
    const matched = matchTerm(inv, term);
    if (matched.length === 0) throw new OrchError('UNKNOWN_TARGET', noMatchMessage(inv, term));
    for (const name of matched) chosen.add(name);
  }
  let allowed: Set<string> | undefined;
  if (opts.group !== undefined) {
    const members = inv.groups.get(opts.group);
    if (!members) throw new OrchError('UNKNOWN_TARGET', `no group named '${opts.group}'${knownGroups(inv)}`);
    allowed = new Set(members);
  }
  const result: HostSpec[] = [];
  for (const [name, spec] of inv.hosts) {
    if (chosen.has(name) && (!allowed || allowed.has(name))) result.push(spec);
  }
  if (result.length === 0) {
    throw new OrchError('UNKNOWN_TARGET', `no host of '${target}' is in group '${opts.group}'`);
  }
  return result;
}

/** Whether one host is named by `target` (same syntax); used for pillar top files. Never throws on no match. */
export function targetMatchesHost(target: string, host: HostSpec): boolean {
  return splitTarget(target).some((term) => termMatchesHost(term, host));
}

/** The comma-separated terms of a target; empty terms are refused. */
export function splitTarget(target: string): string[] {
  const terms = target.split(',').map((t) => t.trim());
  if (terms.length === 0 || terms.some((t) => t.length === 0)) {
    throw new OrchError('UNKNOWN_TARGET', `empty target term in '${target}'`);
  }
  return terms;
}

function matchTerm(inv: Inventory, term: string): string[] {
  if (term.startsWith('group:')) return inv.groups.get(term.slice('group:'.length)) ?? [];
  if (isGlob(term)) {
    const re = globToRegExp(term);
    return [...inv.hosts.keys()].filter((n) => re.test(n));
  }
  return inv.hosts.has(term) ? [term] : [];
}

function termMatchesHost(term: string, host: HostSpec): boolean {
  if (term.startsWith('group:')) return host.groups.includes(term.slice('group:'.length));
  if (isGlob(term)) return globToRegExp(term).test(host.name);
  return term === host.name;
}

function noMatchMessage(inv: Inventory, term: string): string {
  if (term.startsWith('group:')) {
    const group = term.slice('group:'.length);
    if (inv.groups.has(group)) return `group '${group}' has no hosts`;
    return `no group named '${group}'${knownGroups(inv)}`;
  }
  if (isGlob(term)) return `no host matches '${term}'`;
  return `no host named '${term}' in the inventory`;
}

function knownGroups(inv: Inventory): string {
  const names = [...inv.groups.keys()];
  return names.length ? ` (groups: ${names.join(', ')})` : ' (the inventory has no groups)';
}
