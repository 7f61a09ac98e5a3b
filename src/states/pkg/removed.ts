// pkg.removed: the named packages are not installed. It removes only those present at run time (apt: remove, not
// purge, so config files stay); the package tool may also remove packages that depend on them.
import { defaultApplyOutcome, mustRun } from '../common.js';
import type { StateFunction } from '../types.js';
import {
  collectNames,
  removedArgs,
  pkgCheckBody,
  pkgNames,
  readQuery,
  toolOf,
  type PkgArgs,
} from './common.js';
import { removeLine, toolEnv } from '../../facts/os/pkg.js';

export const pkgRemoved: StateFunction<PkgArgs> = {
  args: removedArgs,
  check(a, _p, ctx) {
    return pkgCheckBody(a, ctx);
  },
  interpretCheck(a, _p, out) {
    const q = readQuery(a, out);
    if ('error' in q) return { status: 'error', comment: q.error };
    const present = pkgNames(a).filter((n) => q.versions.get(n) !== null);
    if (present.length === 0) return { status: 'clean', comment: `not installed: ${pkgNames(a).join(', ')}` };
    return {
      status: 'change',
      comment: `would remove: ${present.join(', ')}`,
      diff: present.map((n) => `- ${n} ${q.versions.get(n)}`.trim()).join('\n'),
      plan: { present },
    };
  },
  apply(a, _p, _c, ctx) {
    const tool = toolOf(ctx);
    if (!tool) return 'echo "no known package tool on this host (apt, dnf, yum or pkg)"; exit 1';
    return `${toolEnv(tool)}
${collectNames(a, ctx, 'ok')}
if [ $# -gt 0 ]; then
  ${mustRun(removeLine(tool), 'package removal')}
  orch_changed=1
  orch_kv comment "removed: $*"
${collectNames(a, ctx, 'ok')}
  if [ $# -gt 0 ]; then echo "still installed after removal: $*"; exit 1; fi
fi`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `packages ${pkgNames(a).join(', ')}`);
  },
};
