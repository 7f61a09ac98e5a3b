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

function probeName(probe: string | undefined): string {
  return probe ?? 'the package tool';
}

/**
 * Read-only: the named packages apt knows nothing of (`apt-cache policy` prints nothing for them) among those the
 * query (pkgCheckBody, in $orch_pkq) did not find installed, or '' when there
 * is nothing to probe: with refresh (the lists may learn the name) and for other tools, whose lookups may fetch
 * metadata or need a catalogue.
 */
function unknownProbe(a: Args, ctx: Parameters<typeof toolOf>[0]): string {
  if (a.refresh || toolOf(ctx) !== 'apt') return '';
  return `orch_unknown=
for n in ${pkgNames(a).map(shQuote).join(' ')}; do
  # Only a missing name can be unknown (interpretCheck): an installed one costs no lookup.
  case "
$orch_pkq" in *"
ok	$n	"*) continue ;; esac
  if [ -z "$(apt-cache policy "$n" 2>/dev/null)" ]; then orch_unknown="$orch_unknown $n"; fi
done
orch_kv probe apt
orch_kv unknown "\${orch_unknown# }"`;
}

export const pkgInstalled: StateFunction<Args> = {
  args: installedArgs,
  inlineCheck: true,
  check(a, _p, ctx) {
    const probe = unknownProbe(a, ctx);
    return probe ? `${pkgCheckBody(a, ctx)}\n${probe}` : pkgCheckBody(a, ctx);
  },
  interpretCheck(a, _p, out) {
    const q = readQuery(a, out);
    if ('error' in q) return { status: 'error', comment: q.error };
    const missing = pkgNames(a).filter((n) => q.versions.get(n) === null);
    const unknown = (out.kv.unknown ?? '').split(' ').filter((n) => missing.includes(n));
    if (unknown.length) {
      // Installing would fail: say so now, naming the tool (a tree's package names are often another OS's).
      return {
        status: 'error',
        comment: `unknown to ${probeName(out.kv.probe)}: ${unknown.join(', ')} (no such package in its lists; the name on this OS may differ, or refresh: true)`,
      };
    }
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
