// The recorded replication topology as the runs see it: every record of the project's job store, read once per
// run, and the pillar adjustment that makes the formula build towards the recorded primary (docs/LIFECYCLE.md).
import type { ProjectConfig } from '../config/project.js';
import { overlayTopology, type TopologyRecord } from '../pg/lifecycle/topology.js';
import { openJobStore } from './open.js';
import type { JobStore } from './store.js';

/** Every recorded topology by cluster key (from store when given, else the project's store, opened and closed). */
export async function loadTopologies(
  project: ProjectConfig,
  store?: JobStore,
): Promise<Map<string, TopologyRecord>> {
  const own = store ?? (await openJobStore(project));
  try {
    return new Map((await own.listTopologies()).map((r) => [r.cluster, r]));
  } finally {
    if (!store) await own.close();
  }
}

/** The engine's adjustPillar for these records. */
export function topologyAdjuster(
  records: ReadonlyMap<string, TopologyRecord>,
): (host: string, pillar: Record<string, unknown>) => void {
  return (_host, pillar) => overlayTopology(pillar, records);
}
