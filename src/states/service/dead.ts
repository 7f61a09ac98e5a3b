// service.dead: a service is stopped, optionally disabled (or enabled) at boot. A service that is not installed
// is already dead (unless enable: true asks for more). It never uninstalls or reconfigures anything.
import { z } from 'zod';
import { shQuote } from '../../shell/quote.js';
import { defaultApplyOutcome } from '../common.js';
import type { StateFunction } from '../types.js';
import {
  enableBody,
  enableChange,
  inspectService,
  serviceCheckBody,
  serviceFunctions,
  serviceName,
  waitFor,
} from './commands.js';

const args = z
  .object({
    name: serviceName.describe('service name (systemd unit, init script or rc.d script)'),
    enable: z
      .boolean()
      .optional()
      .describe('also enable (true) or disable (false) at boot (default: left as it is)'),
  })
  .strict();
type Args = z.infer<typeof args>;

export const serviceDead: StateFunction<Args> = {
  args,
  check(a, _p, ctx) {
    return serviceCheckBody(ctx.facts, a.name);
  },
  interpretCheck(a, _p, out) {
    const inspected = inspectService(a.name, out);
    if ('early' in inspected) return inspected.early;
    const kv = inspected.kv;
    const todo: string[] = [];
    const diff: string[] = [];
    if (kv.active === '1') {
      todo.push('stop');
      diff.push(`${a.name}: running -> stopped`);
    }
    const boot = enableChange(a.enable, kv.enabled);
    if (boot) {
      todo.push(boot);
      diff.push(`${a.name} at boot: ${boot === 'enable' ? 'disabled -> enabled' : 'enabled -> disabled'}`);
    }
    if (todo.length === 0) return { status: 'clean', comment: `${a.name} is stopped` };
    return { status: 'change', comment: `${a.name}: would ${todo.join(', ')}`, diff: diff.join('\n') };
  },
  apply(a, _p, _c, ctx) {
    const missing =
      a.enable === true
        ? `echo ${shQuote(`service ${a.name} not found on the host; cannot enable it`)}; exit 1`
        : `orch_kv comment ${shQuote(`service ${a.name} is not installed; nothing to stop`)}`;
    return `${serviceFunctions(ctx.facts, a.name)}
did=
if ! svc_exists; then
  ${missing}
else
  if svc_active; then
    svc_stop; did="$did stopped"
${waitFor(a.name, 'down')}
  fi
  ${enableBody(a.enable) || ':'}
fi
if [ -n "$did" ]; then orch_changed=1; orch_kv comment ${shQuote(`${a.name}:`)}"$did"; fi`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `service ${a.name}`);
  },
};
