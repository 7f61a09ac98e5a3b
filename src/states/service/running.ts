// service.running: a service is running, optionally enabled (or disabled) at boot. When a watched state changed
// during the run, it restarts the service (or reloads it with reload: true) even if it was already running.
// It never installs the service and never touches its configuration.
import { z } from 'zod';
import { shQuote } from '../../shell/quote.js';
import { defaultApplyOutcome } from '../common.js';
import type { CheckOutcome, StateFunction } from '../types.js';
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
    reload: z.boolean().default(false).describe('when a watched state changes, reload instead of restart'),
  })
  .strict();
type Args = z.infer<typeof args>;

export const serviceRunning: StateFunction<Args> = {
  args,
  reactsToWatch: true,
  check(a, _p, ctx) {
    return serviceCheckBody(ctx.facts, a.name);
  },
  // The check defines its svc_* functions and runs conditions: no exit, cd, trap or set -e of its own.
  inlineCheck: true,
  interpretCheck(a, _p, out, _ctx, watchWouldTrigger): CheckOutcome {
    const inspected = inspectService(a.name, out);
    if ('early' in inspected) return inspected.early;
    const kv = inspected.kv;
    const todo: string[] = [];
    const diff: string[] = [];
    if (kv.active !== '1') {
      todo.push('start');
      diff.push(`${a.name}: stopped -> running`);
    }
    const boot = enableChange(a.enable, kv.enabled);
    if (boot) {
      todo.push(boot);
      diff.push(`${a.name} at boot: ${boot === 'enable' ? 'disabled -> enabled' : 'enabled -> disabled'}`);
    }
    if (todo.length === 0 && watchWouldTrigger) {
      const verb = a.reload ? 'reload' : 'restart';
      return {
        status: 'change',
        comment: `would ${verb} (watched state would change)`,
        diff: `${a.name}: ${verb}`,
      };
    }
    if (todo.length === 0)
      return { status: 'clean', comment: `${a.name} is running${a.enable ? ' and enabled' : ''}` };
    return { status: 'change', comment: `${a.name}: would ${todo.join(', ')}`, diff: diff.join('\n') };
  },
  apply(a, _p, _c, ctx, triggers) {
    const onWatch = triggers.watchChanged
      ? `elif ${triggers.watchChanged}; then
  ${a.reload ? 'svc_reload; did="$did reloaded"' : `svc_restart; did="$did restarted"\n${waitFor(a.name, 'up')}`}`
      : '';
    return `${serviceFunctions(ctx.facts, a.name)}
did=
if ! svc_exists; then echo ${shQuote(`service ${a.name} not found on the host`)}; exit 1; fi
${enableBody(a.enable)}
if ! svc_active; then
  svc_start; did="$did started"
${waitFor(a.name, 'up')}
${onWatch}
fi
if [ -n "$did" ]; then orch_changed=1; orch_kv comment ${shQuote(`${a.name}:`)}"$did"; fi`;
  },
  interpretApply(a, _p, out) {
    return defaultApplyOutcome(out, `service ${a.name}`);
  },
};
