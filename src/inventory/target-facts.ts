// The facts a target may match on (`os=FreeBSD`), and how a `key=value` term reads its value: a fact when the key
// is one of FACT_KEYS (or `facts.<key>`), otherwise an inventory var (`pg_role=standby`, dotted paths into nested
// vars, `vars.<key>` when a var shares a fact's name). Vars are free; facts cost one facts exec per host, so the
// resolver only gathers them when a term needs them (see target.ts). The facts' shape is declared structurally
// here so that inventory/ does not depend on facts/.

/** The part of a host's facts that targets read (facts/types.ts `Facts` fits it). */
export interface TargetFacts {
  kernel: string;
  kernelRelease: string;
  osFamily: string;
  distro: string;
  osVersion: string;
  hostname: string;
  arch: string;
  init: string;
  pkgTool: string;
  postgres: { versions: string[] };
}

/** Fact keys of targets, each with what it reads; documented in docs/TARGETING.md. */
export const FACT_KEYS: Record<string, { read: (f: TargetFacts) => string | string[]; about: string }> = {
  os: { read: (f) => f.osFamily, about: 'OS family: Debian, RedHat, FreeBSD' },
  distro: { read: (f) => f.distro, about: 'distribution: debian, ubuntu, rhel, rocky, freebsd' },
  os_version: { read: (f) => f.osVersion, about: 'OS version, e.g. 12 or 14.1' },
  kernel: { read: (f) => f.kernel, about: 'kernel name: Linux, FreeBSD' },
  kernel_release: { read: (f) => f.kernelRelease, about: 'kernel release (uname -r)' },
  arch: { read: (f) => f.arch, about: 'machine architecture: x86_64, aarch64, amd64' },
  hostname: { read: (f) => f.hostname, about: "the host's own hostname" },
  init: { read: (f) => f.init, about: 'init system: systemd, sysvinit, rc.d' },
  pkg_tool: { read: (f) => f.pkgTool, about: 'package tool: apt, dnf, yum, pkg' },
  pg_version: { read: (f) => f.postgres.versions, about: 'an installed PostgreSQL server version, e.g. 15' },
};

export type MatchSource = { kind: 'fact'; key: string } | { kind: 'var'; path: string[] };

/** Where the value of a `key=value` term comes from. */
export function matchSource(key: string): MatchSource {
  if (key.startsWith('facts.')) return { kind: 'fact', key: key.slice('facts.'.length) };
  if (key.startsWith('vars.')) return { kind: 'var', path: key.slice('vars.'.length).split('.') };
  if (Object.hasOwn(FACT_KEYS, key)) return { kind: 'fact', key };
  return { kind: 'var', path: key.split('.') };
}

/** The values of an inventory var at a dotted path: scalars as strings, a list's scalar items; none if absent. */
export function varValues(vars: Record<string, unknown>, pathParts: string[]): string[] {
  let cur: unknown = vars;
  for (const part of pathParts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return [];
    cur = (cur as Record<string, unknown>)[part];
  }
  const items = Array.isArray(cur) ? cur : [cur];
  return items.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).map((v) => String(v));
}

/** The values of a fact (one, or several for pg_version). */
export function factValues(facts: TargetFacts, key: string): string[] {
  const v = FACT_KEYS[key]!.read(facts);
  return Array.isArray(v) ? v : [v];
}
