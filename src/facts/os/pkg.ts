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

// FreeBSD pkg(7): until pkg(8) is installed, /usr/sbin/pkg is only a bootstrapper that asks before fetching it;
// `pkg -N` says whether pkg(8) is there without bootstrapping, `pkg bootstrap -y` installs it without asking.
const PKG_BOOTSTRAP = '{ pkg -N >/dev/null 2>&1 || pkg bootstrap -y; }';

/**
 * Environment lines the tool needs before it runs: apt must never ask questions; pkg(8)/pkg.conf(5)
 * ASSUME_ALWAYS_YES answers yes to every question, the bootstrapper's too.
 */
export function toolEnv(tool: KnownPkgTool): string {
  if (tool === 'apt') return 'DEBIAN_FRONTEND=noninteractive\nexport DEBIAN_FRONTEND';
  if (tool === 'pkg') return 'ASSUME_ALWAYS_YES=yes\nexport ASSUME_ALWAYS_YES';
  return '';
}

/** Install the packages named in "$@" (pkg bootstrapped first where it is not yet). */
export function installLine(tool: KnownPkgTool): string {
  const line = `${shJoin(INSTALL[tool])} "$@"`;
  return tool === 'pkg' ? `${PKG_BOOTSTRAP} && ${line}` : line;
}

/** Remove the packages named in "$@". */
export function removeLine(tool: KnownPkgTool): string {
  return `${shJoin(REMOVE[tool])} "$@"`;
}

/** Refresh the package metadata. */
export function refreshLine(tool: KnownPkgTool): string {
  return tool === 'pkg' ? `${PKG_BOOTSTRAP} && ${shJoin(REFRESH[tool])}` : shJoin(REFRESH[tool]);
}
