// Targeting: which inventory hosts a target expression names. The grammar (docs/TARGETING.md), loosest first:
//   target := alt (',' alt)*          union
//   alt    := term ('&' term)*        intersection
//   term   := '!'? atom               exclusion
//   atom   := name | glob | 'group:'<name> | key '=' value-glob
// `key=value` matches an inventory var (free) or a fact (target-facts.ts; needs one facts exec per host). Pure
// functions over a loaded Inventory: facts, when a target needs them, are handed in by the caller, who gathers
// them only for the hosts `factCandidates` leaves undecided.
import { OrchError } from '../errors.js';
import { globToRegExp, isGlob } from './glob.js';
import {
  FACT_KEYS,
  factValues,
  matchSource,
  varValues,
  type MatchSource,
  type TargetFacts,
} from './target-facts.js';
import type { HostSpec, Inventory } from './types.js';

export type { TargetFacts } from './target-facts.js';

export type Atom =
  | { kind: 'name'; name: string }
  | { kind: 'glob'; re: RegExp }
  | { kind: 'group'; group: string }
  | { kind: 'match'; key: string; source: MatchSource; re: RegExp; reCi: RegExp };

export interface Term {
  text: string;
  negated: boolean;
  atom: Atom;
}

/** A parsed target: a union of intersections of (possibly negated) terms. */
export interface TargetExpr {
  text: string;
  alts: Term[][];
}

export interface ResolveOptions {
  /** Keep only members of this group (`-g`). */
  group?: string;
  /** Keep only hosts the limit target also names (`--limit`). */
  limit?: string;
  /** A host's facts, when the target (or limit) has fact terms. */
  facts?: (host: string) => TargetFacts | undefined;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/** Parse a target; syntax errors (empty terms, `!` alone, `key=`) are UNKNOWN_TARGET errors naming the target. */
export function parseTarget(target: string): TargetExpr {
  const alts = target.split(',').map((alt) => alt.split('&').map((t) => parseTerm(t.trim(), target)));
  return { text: target, alts };
}

function parseTerm(text: string, target: string): Term {
  let body = text;
  let negated = false;
  if (body.startsWith('!')) {
    negated = true;
    body = body.slice(1).trim();
  }
  if (body.length === 0) throw new OrchError('UNKNOWN_TARGET', `empty target term in '${target}'`);
  if (body.startsWith('!'))
    throw new OrchError('UNKNOWN_TARGET', `'${text}' in '${target}': one '!' per term`);
  return { text, negated, atom: parseAtom(body, target) };
}

function parseAtom(body: string, target: string): Atom {
  if (body.startsWith('group:')) {
    const group = body.slice('group:'.length);
    if (!group) throw new OrchError('UNKNOWN_TARGET', `'${body}' in '${target}' names no group`);
    return { kind: 'group', group };
  }
  const eq = body.indexOf('=');
  if (eq >= 0) {
    const key = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trim();
    if (!KEY.test(key) || value.length === 0) {
      throw new OrchError(
        'UNKNOWN_TARGET',
        `'${body}' in '${target}': expected <var or fact>=<value or glob>`,
      );
    }
    const source = matchSource(key);
    if (source.kind === 'fact' && !Object.hasOwn(FACT_KEYS, source.key)) {
      throw new OrchError(
        'UNKNOWN_TARGET',
        `'${body}' in '${target}': no fact '${source.key}' (facts: ${Object.keys(FACT_KEYS).join(', ')})`,
      );
    }
    const re = globToRegExp(value);
    return { kind: 'match', key, source, re, reCi: new RegExp(re.source, 'is') };
  }
  if (isGlob(body)) return { kind: 'glob', re: globToRegExp(body) };
  return { kind: 'name', name: body };
}

/** Whether any term of the target matches on facts (then facts must be gathered to resolve it). */
export function usesFacts(expr: TargetExpr): boolean {
  return expr.alts.some((alt) => alt.some((t) => t.atom.kind === 'match' && t.atom.source.kind === 'fact'));
}

/** The fact keys a target reads, for messages and docs. */
export function factKeysOf(expr: TargetExpr): string[] {
  const keys = new Set<string>();
  for (const t of expr.alts.flat())
    if (t.atom.kind === 'match' && t.atom.source.kind === 'fact') keys.add(t.atom.key);
  return [...keys];
}

// Three-valued: undefined when the term needs facts that are not known.
function atomMatches(atom: Atom, host: HostSpec, facts: TargetFacts | undefined): boolean | undefined {
  switch (atom.kind) {
    case 'name':
      return atom.name === host.name;
    case 'glob':
      return atom.re.test(host.name);
    case 'group':
      return host.groups.includes(atom.group);
    case 'match':
      if (atom.source.kind === 'var')
        return varValues(host.vars, atom.source.path).some((v) => atom.re.test(v));
      // Facts are identifiers (Debian, debian, systemd): compared without case, as Salt compares grains.
      if (!facts) return undefined;
      return factValues(facts, atom.source.key).some((v) => atom.reCi.test(v));
  }
}

/** Whether the expression names the host: true, false, or undefined when that depends on unknown facts. */
export function exprMatches(expr: TargetExpr, host: HostSpec, facts?: TargetFacts): boolean | undefined {
  let any: boolean | undefined = false;
  for (const alt of expr.alts) {
    let all: boolean | undefined = true;
    for (const term of alt) {
      const m = atomMatches(term.atom, host, facts);
      const v = m === undefined ? undefined : term.negated ? !m : m;
      if (v === false) {
        all = false;
        break;
      }
      if (v === undefined) all = undefined;
    }
    if (all === true) return true;
    if (all === undefined) any = undefined;
  }
  return any;
}

/**
 * Names and groups must exist wherever they appear (a typo in `!db3.example.cmo` would otherwise exclude nothing);
 * a term standing alone in the union must match some host (as before the grammar grew `&` and `!`).
 */
function checkTerms(inv: Inventory, expr: TargetExpr): void {
  for (const alt of expr.alts) {
    for (const term of alt) {
      const a = term.atom;
      if (a.kind === 'name' && !inv.hosts.has(a.name))
        throw new OrchError('UNKNOWN_TARGET', `no host named '${a.name}' in the inventory`);
      if (a.kind === 'group' && !inv.groups.has(a.group))
        throw new OrchError('UNKNOWN_TARGET', `no group named '${a.group}'${knownGroups(inv)}`);
    }
    if (alt.length !== 1 || alt[0]!.negated) continue;
    const a = alt[0]!.atom;
    if (a.kind === 'group' && (inv.groups.get(a.group) ?? []).length === 0)
      throw new OrchError('UNKNOWN_TARGET', `group '${a.group}' has no hosts`);
    if (a.kind === 'glob' && ![...inv.hosts.keys()].some((n) => a.re.test(n)))
      throw new OrchError('UNKNOWN_TARGET', `no host matches '${alt[0]!.text}'`);
  }
}

interface Prepared {
  expr: TargetExpr;
  limit?: TargetExpr;
  allowed?: Set<string>;
}

function prepare(inv: Inventory, target: string, opts: ResolveOptions): Prepared {
  const expr = parseTarget(target);
  checkTerms(inv, expr);
  const limit = opts.limit === undefined ? undefined : parseTarget(opts.limit);
  if (limit) checkTerms(inv, limit);
  let allowed: Set<string> | undefined;
  if (opts.group !== undefined) {
    const members = inv.groups.get(opts.group);
    if (!members) throw new OrchError('UNKNOWN_TARGET', `no group named '${opts.group}'${knownGroups(inv)}`);
    allowed = new Set(members);
  }
  return { expr, limit, allowed };
}

function verdict(p: Prepared, host: HostSpec, facts: TargetFacts | undefined): boolean | undefined {
  if (p.allowed && !p.allowed.has(host.name)) return false;
  const a = exprMatches(p.expr, host, facts);
  if (a === false || !p.limit) return a;
  const b = exprMatches(p.limit, host, facts);
  if (b === false) return false;
  return a === true && b === true ? true : undefined;
}

/**
 * The hosts whose match depends on facts: everything else is decided from the inventory alone, so facts are
 * gathered for these only (none when the target has no fact term).
 */
export function factCandidates(inv: Inventory, target: string, opts: ResolveOptions = {}): HostSpec[] {
  const p = prepare(inv, target, opts);
  return [...inv.hosts.values()].filter((h) => verdict(p, h, undefined) === undefined);
}

/** Hosts named by `target` in inventory order, without duplicates; `opts.group`/`opts.limit` narrow them. */
export function resolveTargets(inv: Inventory, target: string, opts: ResolveOptions = {}): HostSpec[] {
  const p = prepare(inv, target, opts);
  const result: HostSpec[] = [];
  for (const host of inv.hosts.values()) {
    const v = verdict(p, host, opts.facts?.(host.name));
    if (v === undefined) {
      const keys = [...factKeysOf(p.expr), ...(p.limit ? factKeysOf(p.limit) : [])];
      throw new OrchError(
        'BAD_INPUT',
        `target '${target}' matches on facts (${keys.join(', ')}) but the facts of ${host.name} are not known here`,
      );
    }
    if (v) result.push(host);
  }
  if (result.length === 0) throw new OrchError('UNKNOWN_TARGET', emptyMessage(target, opts));
  return result;
}

function emptyMessage(target: string, opts: ResolveOptions): string {
  if (opts.group !== undefined && opts.limit !== undefined)
    return `no host of '${target}' is in group '${opts.group}' and --limit '${opts.limit}'`;
  if (opts.group !== undefined) return `no host of '${target}' is in group '${opts.group}'`;
  if (opts.limit !== undefined) return `no host of '${target}' is in --limit '${opts.limit}'`;
  return `target '${target}' matches no host`;
}

/**
 * Whether one host is named by `target` (same grammar); used for top files, where a term may match no host at all
 * (never an error). A fact term needs the host's facts: without them it is an error, never a guess.
 */
export function targetMatchesHost(target: string, host: HostSpec, facts?: TargetFacts): boolean {
  const expr = parseTarget(target);
  const v = exprMatches(expr, host, facts);
  if (v === undefined) {
    throw new OrchError(
      'BAD_INPUT',
      `target '${target}' matches on facts (${factKeysOf(expr).join(', ')}), which are not gathered here`,
    );
  }
  return v;
}

/** The comma-separated terms of a target; a malformed target is refused (checks the whole grammar). */
export function splitTarget(target: string): string[] {
  parseTarget(target);
  return target.split(',').map((t) => t.trim());
}

function knownGroups(inv: Inventory): string {
  const names = [...inv.groups.keys()];
  return names.length ? ` (groups: ${names.join(', ')})` : ' (the inventory has no groups)';
}
