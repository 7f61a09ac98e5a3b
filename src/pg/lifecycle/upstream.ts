// Pointing a standby at an upstream and waiting until it streams from it: shared by switchover and follow.
// PostgreSQL 13+ takes the new primary_conninfo with a reload, 12 with a restart, 10 and 11 by rewriting
// recovery.conf and restarting. The standby's own conninfo settings are kept; only host and port change.
import { confString } from '../conninfo.js';
import { OrchError } from '../../errors.js';
import { repointConninfo } from './conninfo.js';
import type { PgNode } from './node.js';
import { probeNode, type NodeState } from './probe.js';
import { setUpstream, startAndWait, stopFast, writeStandbyConfig } from './remote.js';

/** recovery.conf (PostgreSQL 10, 11) of a standby of conninfo through slot. */
export function recoveryConf(conninfo: string, slot: string): string {
  return [
    "standby_mode = 'on'",
    `primary_conninfo = ${confString(conninfo)}`,
    `primary_slot_name = ${confString(slot)}`,
    "recovery_target_timeline = 'latest'",
    '',
  ].join('\n');
}

/** The conninfo a node should use to stream from upstream: its own (or template) with host and port replaced. */
export function conninfoFor(own: string | null | undefined, template: string, upstream: PgNode): string {
  return repointConninfo(own ?? template, upstream.host, upstream.port);
}

/** Repoint a running standby in place (no base backup). */
export async function repointRunning(n: PgNode, conninfo: string, slot: string): Promise<void> {
  if (n.major >= 12) return setUpstream(n, conninfo, slot);
  await stopFast(n);
  await writeStandbyConfig(n, recoveryConf(conninfo, slot));
  await startAndWait(n);
}

/** Start a stopped former primary as a standby of conninfo through slot. */
export async function startAsStandby(n: PgNode, conninfo: string, slot: string): Promise<void> {
  await writeStandbyConfig(n, n.major >= 12 ? undefined : recoveryConf(conninfo, slot));
  await startAndWait(n);
  if (n.major >= 12) await setUpstream(n, conninfo, slot);
}

/** True when st streams from upstream (its name or address) through slot. */
export function streamsFrom(st: NodeState, names: readonly string[], slot: string): boolean {
  const r = st.receiver;
  return (
    st.inRecovery === true &&
    r?.status === 'streaming' &&
    r.slot === slot &&
    r.senderHost !== null &&
    names.includes(r.senderHost)
  );
}

/** Poll until n streams from upstream through slot, at most seconds; its last state, or COMMAND_FAILED. */
export async function waitStreaming(
  n: PgNode,
  names: readonly string[],
  slot: string,
  seconds: number,
): Promise<NodeState> {
  const until = Date.now() + seconds * 1000;
  let st: NodeState | undefined;
  for (;;) {
    st = await probeNode(n).catch(() => undefined);
    if (st && streamsFrom(st, names, slot)) return st;
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const seen = st?.receiver
    ? `receiver ${st.receiver.status} from ${st.receiver.senderHost ?? '?'}`
    : 'no receiver';
  throw new OrchError(
    'COMMAND_FAILED',
    `${n.host}: not streaming from ${names[0]} after ${seconds} s (${seen})`,
  );
}
