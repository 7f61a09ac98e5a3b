// zod for the few checks that must stay synchronous yet should not load zod on every start (orch.yaml, the
// inventory): its CommonJS build, required on first use. Those checks reach it only when a cheap exact check
// could not accept a document, i.e. to word an error, so a start with valid files never pays for zod.
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

export type ZodApi = typeof Zod;

let zod: ZodApi | undefined;

/** The zod API, loaded now if it was not yet. */
export function zodNow(): ZodApi {
  zod ??= (createRequire(import.meta.url)('zod') as { z: ZodApi }).z;
  return zod;
}
