// Resolves requisite references to declarations and orders them: requisites first, file order otherwise.
// Cycles and dangling references are input errors naming the states involved.
import { InputError } from '../errors.js';
import { REQUISITES, type RequisiteKind, type StateDecl, type StateRef } from './decl.js';

export interface PlannedState {
  decl: StateDecl;
  /** Position in the final order; also the step index in remote scripts. */
  index: number;
  /** Indexes (in the final order) of the states each requisite kind points at. */
  deps: Record<RequisiteKind, number[]>;
}

/** Label a user recognises: `file: /etc/motd`. */
export function declLabel(d: StateDecl): string {
  return `${d.module}: ${d.id}`;
}

function matches(d: StateDecl, ref: StateRef): boolean {
  if (ref.module && ref.module !== d.module && ref.module !== d.fn) return false;
  return d.id === ref.target || (ref.module !== undefined && d.args.name === ref.target);
}

function resolve(decls: StateDecl[], ref: StateRef, from: StateDecl, kind: string): number[] {
  const found = decls.flatMap((d, i) => (matches(d, ref) ? [i] : []));
  if (found.length === 0) {
    const what = ref.module ? `${ref.module}: ${ref.target}` : ref.target;
    throw new InputError('STATE_ERROR', `state '${from.id}' ${kind}s '${what}', which no state declares`, {
      file: from.file,
      line: from.line,
    });
  }
  return found;
}

/** Resolve requisites (including _in forms) and return the states in execution order. */
export function planOrder(decls: StateDecl[]): PlannedState[] {
  const n = decls.length;
  const deps: Record<RequisiteKind, Set<number>>[] = decls.map(() => ({
    require: new Set<number>(),
    watch: new Set<number>(),
    onchanges: new Set<number>(),
  }));
  decls.forEach((d, i) => {
    for (const kind of REQUISITES) {
      for (const ref of d.requisites[kind])
        for (const j of resolve(decls, ref, d, kind)) deps[i]![kind].add(j);
      for (const ref of d.requisitesIn[kind])
        for (const j of resolve(decls, ref, d, `${kind}_in`)) deps[j]![kind].add(i);
    }
  });
  for (let i = 0; i < n; i++) {
    for (const kind of REQUISITES) {
      if (deps[i]![kind].has(i)) {
        throw new InputError('STATE_ERROR', `state '${decls[i]!.id}' ${kind}s itself`, {
          file: decls[i]!.file,
          line: decls[i]!.line,
        });
      }
    }
  }
  const order = topoSort(decls, deps);
  const position = new Map<number, number>(order.map((orig, pos) => [orig, pos]));
  return order.map((orig, pos) => ({
    decl: decls[orig]!,
    index: pos,
    deps: Object.fromEntries(
      REQUISITES.map((k) => [k, [...deps[orig]![k]].map((j) => position.get(j)!).sort((a, b) => a - b)]),
    ) as Record<RequisiteKind, number[]>,
  }));
}

/** Kahn's algorithm, always taking the earliest-declared ready state, so file order holds where free. */
function topoSort(decls: StateDecl[], deps: Record<RequisiteKind, Set<number>>[]): number[] {
  const n = decls.length;
  const before = decls.map((_, i) => new Set(REQUISITES.flatMap((k) => [...deps[i]![k]])));
  const done = new Set<number>();
  const order: number[] = [];
  while (order.length < n) {
    let next = -1;
    for (let i = 0; i < n; i++) {
      if (!done.has(i) && [...before[i]!].every((j) => done.has(j))) {
        next = i;
        break;
      }
    }
    if (next < 0) throw cycleError(decls, before, done);
    done.add(next);
    order.push(next);
  }
  return order;
}

function cycleError(decls: StateDecl[], before: Set<number>[], done: Set<number>): InputError {
  // Walk from any blocked state along unmet requisites until a state repeats: that loop is the cycle.
  let at = decls.findIndex((_, i) => !done.has(i));
  const seen: number[] = [];
  while (!seen.includes(at)) {
    seen.push(at);
    at = [...before[at]!].find((j) => !done.has(j))!;
  }
  const cycle = [...seen.slice(seen.indexOf(at)), at].map((i) => declLabel(decls[i]!));
  const first = decls[at]!;
  return new InputError('STATE_ERROR', `requisite cycle: ${cycle.join(' -> ')}`, {
    file: first.file,
    line: first.line,
  });
}
