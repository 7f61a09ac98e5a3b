// The service.* state functions, keyed by `module.function`.
import type { AnyStateFunction } from '../types.js';
import { serviceDead } from './dead.js';
import { serviceEnabled } from './enabled.js';
import { serviceRunning } from './running.js';

export const serviceStates: Record<string, AnyStateFunction> = {
  'service.running': serviceRunning,
  'service.dead': serviceDead,
  'service.enabled': serviceEnabled,
};
