// The registry of state module functions: `module.function` -> implementation. Unknown names are input errors.
import { cmdStates } from './cmd/index.js';
import { fileStates } from './file/index.js';
import { pkgStates } from './pkg/index.js';
import { postgresStates } from './postgres/index.js';
import { serviceStates } from './service/index.js';
import type { AnyStateFunction } from './types.js';

const registry = new Map<string, AnyStateFunction>(
  Object.entries({ ...fileStates, ...pkgStates, ...serviceStates, ...cmdStates, ...postgresStates }),
);

/** The implementation of `module.function`, or undefined. */
export function lookupState(fn: string): AnyStateFunction | undefined {
  return registry.get(fn);
}

/** Every registered `module.function` name, sorted (for error hints and docs). */
export function stateNames(): string[] {
  return [...registry.keys()].sort();
}

/** Add implementations (used by module files and tests). */
export function registerStates(entries: Record<string, AnyStateFunction>): void {
  for (const [name, fn] of Object.entries(entries)) registry.set(name, fn);
}
