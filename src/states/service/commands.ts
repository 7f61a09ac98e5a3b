// Shell functions a service state's step defines for itself: does the service exist, is it running, is it enabled,
// and the start/stop/restart/reload/enable/disable commands, per init system (systemd, sysvinit `service`,
// FreeBSD rc.d). Commands and conditions come from the OS layer (src/facts/os); this file names them as shell
// functions. Builds shell text only.
import type { StepOutput } from '../../shell/protocol.js';
import type { CheckOutcome } from '../types.js';
import { z } from 'zod';
import { OrchError } from '../../errors.js';
import { checkServiceName, osPaths, type ServiceAction } from '../../facts/os/index.js';
import type { Facts } from '../../facts/types.js';
import { shJoin, shQuote } from '../../shell/quote.js';
import { mustRun } from '../common.js';
import { kvBit, probeError, readKv } from '../probe.js';

/** A service name valid for every init system (checked at compile time). */
export const serviceName = z.string().superRefine((n, ctx) => {
  try {
    checkServiceName(n);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof OrchError ? err.message : String(err) });
  }
});

/** The command for an action: the OS layer's argv (rc.d's `one` prefix on FreeBSD). */
export function actionCommand(facts: Facts, name: string, action: ServiceAction): string {
  return shJoin(osPaths(facts).serviceActionCmd(name, action));
}

/**
 * Definitions of svc_exists, svc_active, svc_enabled (quiet conditions) and svc_enable, svc_disable, svc_start,
 * svc_stop, svc_restart, svc_reload for one service. All conditions are read-only.
 */
export function serviceFunctions(facts: Facts, name: string): string {
  const p = osPaths(facts);
  const exists = p.serviceExists(name);
  const active = p.serviceActive(name);
  return [
    `svc_exists() { ${exists}; }`,
    `svc_active() { ${active}; }`,
    `svc_enabled() { ${shJoin(p.isEnabledCmd(name))} >/dev/null 2>&1; }`,
    `svc_enable() { ${mustRun(shJoin(p.enableCmd(name)), `enabling ${name}`)}; }`,
    `svc_disable() { ${mustRun(shJoin(p.disableCmd(name)), `disabling ${name}`)}; }`,
    ...(['start', 'stop', 'restart', 'reload'] as const).map(
      (a) => `svc_${a}() { ${mustRun(actionCommand(facts, name, a), `${a} ${name}`)}; }`,
    ),
  ].join('\n');
}

/** Check body shared by service states: kv exists/active/enabled as 1 or 0. */
export function serviceCheckBody(facts: Facts, name: string): string {
  return `${serviceFunctions(facts, name)}
if svc_exists; then
  orch_kv exists 1
  if svc_active; then orch_kv active 1; else orch_kv active 0; fi
  if svc_enabled; then orch_kv enabled 1; else orch_kv enabled 0; fi
else orch_kv exists 0
fi`;
}

/** Shell waiting (bounded) until svc_active gives `want`; fails the step with a message otherwise. */
export function waitFor(name: string, want: 'up' | 'down', seconds = 10): string {
  return `w=0
while ${want === 'up' ? '! svc_active' : 'svc_active'}; do
  w=$((w + 1))
  if [ "$w" -gt ${seconds} ]; then echo ${shQuote(`${name} is not ${want === 'up' ? 'running' : 'stopped'} after ${seconds}s`)}; exit 1; fi
  sleep 1
done`;
}

/** Shell setting boot-time enablement when `enable` is given; appends to $did. */
export function enableBody(enable: boolean | undefined): string {
  if (enable === true) return 'if ! svc_enabled; then svc_enable; did="$did enabled"; fi';
  if (enable === false) return 'if svc_enabled; then svc_disable; did="$did disabled"; fi';
  return '';
}

/** The check's description of a boot-time mismatch, or null. */
export function enableChange(enable: boolean | undefined, enabled: string | undefined): string | null {
  if (enable === true && enabled === '0') return 'enable';
  if (enable === false && enabled === '1') return 'disable';
  return null;
}

/** What serviceCheckBody prints: exists, and for an existing service active and enabled. */
const serviceCheckKv = z.discriminatedUnion('exists', [
  z.object({ exists: z.literal('0') }),
  z.object({ exists: z.literal('1'), active: kvBit, enabled: kvBit }),
]);

/** An existing service's state as serviceCheckBody read it. */
export type ServiceKv = Extract<z.infer<typeof serviceCheckKv>, { exists: '1' }>;

/**
 * What every service function reads first: the outcome when it cannot go on (the check failed or did not read:
 * error; the service is not there yet: unknown, an earlier state in the run may install it), else the state read.
 */
export function inspectService(name: string, out: StepOutput): { early: CheckOutcome } | { kv: ServiceKv } {
  if (out.status !== 0)
    return { early: { status: 'error', comment: `could not inspect service ${name}: ${out.text}` } };
  const read = readKv(serviceCheckKv, out);
  if (!read.ok) return { early: probeError(`service ${name}`, read.error) };
  if (read.kv.exists === '0') return { early: { status: 'unknown', comment: notInstalled(name) } };
  return { kv: read.kv };
}

/** Comment for a service the host does not have (yet). */
export function notInstalled(name: string): string {
  return `service ${name} not found on the host (yet); a state earlier in the run may install it`;
}
