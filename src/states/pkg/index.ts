// The pkg.* state functions, keyed by `module.function`.
import type { AnyStateFunction } from '../types.js';
import { pkgInstalled } from './installed.js';
import { pkgRemoved } from './removed.js';

export const pkgStates: Record<string, AnyStateFunction> = {
  'pkg.installed': pkgInstalled,
  'pkg.removed': pkgRemoved,
};
