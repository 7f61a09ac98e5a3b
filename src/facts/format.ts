// Human-readable rendering of Facts for `orch facts`: a compact block per host. Text only; no I/O.
import type { Facts } from './types.js';

/** The lines describing one host's facts, indented under the host's name by the caller. */
export function formatFacts(f: Facts): string[] {
  const lines = [
    `os:       ${f.osFamily} / ${f.distro} ${f.osVersion} (${f.arch})`,
    `kernel:   ${f.kernel} ${f.kernelRelease}`,
    `hostname: ${f.hostname}`,
    `init:     ${f.init}`,
    `packages: ${f.pkgTool}`,
  ];
  const pg = f.postgres;
  if (pg.versions.length === 0 && pg.clusters.length === 0) {
    lines.push('postgres: not installed');
    return lines;
  }
  const versions = pg.versions.length ? pg.versions.join(', ') : 'no server binaries';
  lines.push(`postgres: ${versions} (user ${f.postgresUser}, socket ${pg.socketDir})`);
  if (pg.clusters.length === 0) lines.push('  no clusters');
  for (const c of pg.clusters) {
    const state = c.running ? 'running' : 'down';
    lines.push(`  ${c.version}/${c.name}  port ${c.port}  ${state}  data ${c.dataDir}`);
  }
  return lines;
}
