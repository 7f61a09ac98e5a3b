// The facts subsystem's public surface: the probe, its parser, gathering, and per-OS paths and tools.
export { factsScript, FACTS_MARKER } from './script.js';
export { parseFacts, factsComplete, defaultSocketDir } from './parse.js';
export { gatherFacts, type GatherOptions } from './gather.js';
export { osPaths, parsePkgQuery, type OsPaths, type PostgresPaths, type ServiceAction } from './os/index.js';
export type { Facts, OsFamily, InitSystem, PkgTool, PostgresCluster } from './types.js';
