// Package tool commands: install, remove and metadata refresh per tool (apt, dnf, yum, FreeBSD pkg), each taking
// the package names from the shell's "$@" so only the ones found missing (or present) at run time are passed. The
// read-only query is pkgQueryLines (common.ts). Builds shell text only.
import { shJoin } from '../../shell/quote.js';
import type { PkgTool } from '../types.js';

export type KnownPkgTool = Exclude<PkgTool, 'unknown'>;

export function isKnownTool(tool: PkgTool): tool is KnownPkgTool {
  return tool !== 'unknown';
}

// apt: keep locally changed config files (force-confold) and wait for a concurrent apt/dpkg run instead of failing.
const APT = ['apt-get', '-y', '-o', 'Dpkg::Options::=--force-confold', '-o', 'DPkg::Lock::Timeout=120'];

const INSTALL: Record<KnownPkgTool, string[]> = {
  apt: [...APT, 'install'],
  dnf: ['dnf', '-y', 'install'],
  yum: ['yum', '-y', 'install'],
  pkg: ['pkg', 'install', '-y'],
};

const REMOVE: Record<KnownPkgTool, string[]> = {
  apt: [...APT, 'remove'],
  dnf: ['dnf', '-y', 'remove'],
  yum: ['yum', '-y', 'remove'],
  pkg: ['pkg', 'delete', '-y'],
};

const REFRESH: Record<KnownPkgTool, string[]> = {
  apt: ['apt-get', '-o', 'DPkg::Lock::Timeout=120', 'update'],
  dnf: ['dnf', '-y', 'makecache'],
  yum: ['yum', '-y', 'makecache'],
  pkg: ['pkg', 'update'],
};

/** Environment lines the tool needs before it runs (apt must never ask questions). */
export function toolEnv(tool: KnownPkgTool): string {
  return tool === 'apt' ? 'DEBIAN_FRONTEND=noninteractive\nexport DEBIAN_FRONTEND' : '';
}

/** Install the packages named in "$@". */
export function installLine(tool: KnownPkgTool): string {
  return `${shJoin(INSTALL[tool])} "$@"`;
}

/** Remove the packages named in "$@". */
export function removeLine(tool: KnownPkgTool): string {
  return `${shJoin(REMOVE[tool])} "$@"`;
}

/** Refresh the package metadata. */
export function refreshLine(tool: KnownPkgTool): string {
  return shJoin(REFRESH[tool]);
}
