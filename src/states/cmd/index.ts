// The cmd.* state functions, keyed by `module.function`.
import type { AnyStateFunction } from '../types.js';
import { cmdRun } from './run.js';
import { cmdScript } from './script.js';

export const cmdStates: Record<string, AnyStateFunction> = {
  'cmd.run': cmdRun,
  'cmd.script': cmdScript,
};
