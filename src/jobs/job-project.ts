// The project a queued job runs in, as its creator saw it: the worker's project root with the inventory paths and
// parallelism stored in the job's arguments. Used by whole jobs (worker.ts) and shards (shard-run.ts) alike.
import { loadProject, type ProjectConfig } from '../config/project.js';

/** The project as the job's creator saw it: same root, plus the inventory and parallelism given on its command line. */
export function projectForJob(base: ProjectConfig, args: Record<string, unknown>): ProjectConfig {
  const inventory =
    Array.isArray(args.inventory) && args.inventory.every((p) => typeof p === 'string')
      ? (args.inventory as string[])
      : undefined;
  const parallel = typeof args.parallel === 'number' && args.parallel > 0 ? args.parallel : undefined;
  if (!inventory && !parallel) return base;
  return loadProject({ root: base.root, inventory, parallel });
}
