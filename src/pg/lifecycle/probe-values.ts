// The probe's values are what a node says about itself: a database superuser (or the postgres account) decides
// them, e.g. by a function that shadows a catalog one on the role's search_path. Each is checked against the
// shape PostgreSQL gives it before a verb compares, prints or sends one anywhere. Pure.
import { SLOT_NAME } from '../conninfo.js';
import type { NodeState } from './probe.js';

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;
const DIGITS = /^[0-9]{1,20}$/;
const WORDS = /^[a-z][a-z ]{0,40}$/;
// A receiver's sender: a host name, an IPv4/IPv6 address or a socket directory; no blank, quote or control byte.
const SENDER = /^[A-Za-z0-9_.:%/-]{1,255}$/;

const uint32 = (n: number | undefined): boolean =>
  n !== undefined && Number.isInteger(n) && n >= 1 && n < 2 ** 32;

/** The first value of st that has not the shape PostgreSQL gives it, as `<what>: <value as JSON>`. */
export function probeValueProblem(st: NodeState): string | undefined {
  const bad = (what: string, v: unknown) => `${what}: ${JSON.stringify(v)?.slice(0, 80) ?? 'undefined'}`;
  const c = st.control;
  if (c.state !== undefined && !WORDS.test(c.state)) return bad('pg_control state', c.state);
  if (c.checkpointLsn !== undefined && !LSN.test(c.checkpointLsn))
    return bad('pg_control checkpoint location', c.checkpointLsn);
  if (c.checkpointTli !== undefined && !uint32(c.checkpointTli))
    return bad('pg_control timeline', c.checkpointTli);
  if (c.systemId !== undefined && !DIGITS.test(c.systemId)) return bad('pg_control system id', c.systemId);
  if (c.checksumVersion !== undefined && !(Number.isInteger(c.checksumVersion) && c.checksumVersion >= 0))
    return bad('pg_control checksum version', c.checksumVersion);
  if (st.inRecovery === undefined) return undefined;
  const v = st.version;
  if (v === undefined || !Number.isInteger(v) || v < 90000 || v > 9999999)
    return bad('server_version_num', v);
  if (st.systemId !== undefined && !DIGITS.test(st.systemId)) return bad('system identifier', st.systemId);
  if (!uint32(st.timeline)) return bad('timeline', st.timeline);
  for (const [what, lsn] of [
    ['current WAL location', st.currentLsn],
    ['receive location', st.receiveLsn],
    ['replay location', st.replayLsn],
  ] as const)
    if (lsn != null && !LSN.test(lsn)) return bad(what, lsn);
  const r = st.receiver;
  if (r) {
    if (!WORDS.test(r.status)) return bad('WAL receiver status', r.status);
    if (r.slot !== null && !SLOT_NAME.test(r.slot)) return bad('WAL receiver slot', r.slot);
    if (r.senderHost !== null && !SENDER.test(r.senderHost)) return bad('WAL receiver sender', r.senderHost);
    if (
      r.senderPort !== null &&
      !(Number.isInteger(r.senderPort) && r.senderPort >= 1 && r.senderPort <= 65535)
    )
      return bad('WAL receiver port', r.senderPort);
  }
  if (st.slotName != null && !SLOT_NAME.test(st.slotName)) return bad('primary_slot_name', st.slotName);
  for (const s of st.slots) if (!SLOT_NAME.test(s.name)) return bad('slot name', s.name);
  return undefined;
}
