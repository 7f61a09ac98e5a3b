// service.enabled: a service starts at boot. It does not start or stop it now.
import { z } from 'zod';
import { shQuote } from '../../shell/quote.js';
import { defaultApplyOutcome } from '../common.js';
import type { StateFunction } from '../types.js';
import { inspectService, serviceCheckBody, serviceFunctions, serviceName } from './commands.js';

const args = z
  .object({ name: serviceName.describe('service name (systemd unit, init script or rc.d script)') })
  .strict();
type Args = z.infer<typeof args>;

export const serviceEnabled: StateFunction<Args> = {
  args,
  check(a, _p, ctx) {
    return serviceCheckBody(ctx.facts, a.name);
  },
  interpretCheck(a, _p, out) {
    const inspected = inspectService(a.name, out);
    if ('early' in inspected) return inspected.early;
    const kv = inspected.kv;
    if (kv.enabled === '1') return { status: 'clean', comment: `${a.name} is enabled at boot` };
    return {
      status: 'change',
      comment: `${a.name}: would enable at boot`,
      diff: `${a.name} at boot: disabled -> enabled`,
    };
  },
  apply(a, _p, _c, ctx) {
    return `${serviceFunctions(ctx.facts, a.name)}
if ! svc_exists; then echo ${shQuote(`service ${a.name} not found on the host`)}; exit 1; fi
if ! svc_enabled; then
  svc_enable
  orch_changed=1
  orch_kv comment ${shQuote(`${a.name}: enabled at boot`)}
fi`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `service ${a.name}`);
  },
};
