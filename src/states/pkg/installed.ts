// pkg.installed: the named packages are installed (any version), with the host's package tool (apt, dnf/yum,
// FreeBSD pkg). It installs only those missing at run time and never upgrades or removes anything itself.
import { shQuote } from '../../shell/quote.js';
import { defaultApplyOutcome, mustRun } from '../common.js';
import type { StateFunction } from '../types.js';
import {
  collectNames,
  installedArgs,
  pkgCheckBody,
  pkgNames,
  readQuery,
  toolOf,
  type PkgArgs,
} from './common.js';
import { installLine, refreshLine, toolEnv } from '../../facts/os/pkg.js';

type Args = PkgArgs & { refresh: boolean };

export const pkgInstalled: StateFunction<Args> = {
  args: installedArgs,
  check(a, _p, ctx) {
    return pkgCheckBody(a, ctx);
  },
  interpretCheck(a, _p, out) {
    const q = readQuery(a, out);
    if ('error' in q) return { status: 'error', comment: q.error };
    const missing = pkgNames(a).filter((n) => q.versions.get(n) === null);
    if (missing.length === 0) {
      const have = pkgNames(a).map((n) => `${n} ${q.versions.get(n)}`.trim());
      return { status: 'clean', comment: `installed: ${have.join(', ')}` };
    }
    return {
      status: 'change',
      comment: `would install: ${missing.join(', ')}`,
      diff: missing.map((n) => `+ ${n}`).join('\n'),
      plan: { missing },
    };
  },
  apply(a, _p, _c, ctx) {
    const tool = toolOf(ctx);
    if (!tool) return 'echo "no known package tool on this host (apt, dnf, yum or pkg)"; exit 1';
    return `${toolEnv(tool)}
${collectNames(a, ctx, 'missing')}
if [ $# -gt 0 ]; then
  ${a.refresh ? `${mustRun(refreshLine(tool), 'package metadata refresh')}\n  ` : ''}${mustRun(installLine(tool), 'package install')}
  orch_changed=1
  orch_kv comment "installed: $*"
${collectNames(a, ctx, 'missing')}
  if [ $# -gt 0 ]; then echo "still not installed after ${shQuote(tool)} install: $*"; exit 1; fi
fi`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `packages ${pkgNames(a).join(', ')}`);
  },
};
