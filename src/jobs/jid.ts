// Job ids: Salt-style 20 digits `YYYYMMDDhhmmssffffff` (UTC, microseconds). Within one process they are unique
// and strictly increasing; across processes and machines the store's primary key settles collisions (the store
// retries with the next microsecond). This module only makes and reads ids; it never touches a store.

const JID_RE = /^\d{20}$/;

/** True when s has the shape of a job id and names a real UTC instant. */
export function isJid(s: unknown): s is string {
  if (typeof s !== 'string' || !JID_RE.test(s)) return false;
  const d = jidToDate(s);
  return d !== null && formatMicros(BigInt(d.getTime()) * 1000n + BigInt(s.slice(17, 20))) === s;
}

/** The instant a job id stands for (millisecond precision), or null when it is not a valid id. */
export function jidToDate(jid: string): Date | null {
  if (!JID_RE.test(jid)) return null;
  const ms = Date.UTC(
    Number(jid.slice(0, 4)),
    Number(jid.slice(4, 6)) - 1,
    Number(jid.slice(6, 8)),
    Number(jid.slice(8, 10)),
    Number(jid.slice(10, 12)),
    Number(jid.slice(12, 14)),
    Number(jid.slice(14, 17)),
  );
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** The id one microsecond after jid: what a store tries after a primary-key conflict. */
export function nextJid(jid: string): string {
  return formatMicros(jidToMicros(jid) + 1n);
}

/** Microseconds since the epoch encoded by a job id. */
export function jidToMicros(jid: string): bigint {
  const d = jidToDate(jid);
  if (!d) throw new Error(`not a job id: ${jid}`);
  return BigInt(d.getTime()) * 1000n + BigInt(jid.slice(17, 20));
}

/** Encode microseconds since the epoch as a job id. */
export function formatMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const sub = micros % 1000n;
  const d = new Date(Number(ms));
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    p(d.getUTCFullYear(), 4) +
    p(d.getUTCMonth() + 1) +
    p(d.getUTCDate()) +
    p(d.getUTCHours()) +
    p(d.getUTCMinutes()) +
    p(d.getUTCSeconds()) +
    p(d.getUTCMilliseconds(), 3) +
    String(sub).padStart(3, '0')
  );
}

/** Wall clock in microseconds: Date's milliseconds (so ids agree with createdAt), the sub-millisecond part from
 * performance.now(). A carry between the two can look like a step back; the generator absorbs it. */
function wallMicros(): bigint {
  const sub = Math.floor((performance.now() % 1) * 1000);
  return BigInt(Date.now()) * 1000n + BigInt(sub);
}

/** A source of ids that never repeats itself and never goes backwards, even when the clock does. */
export class JidGenerator {
  private last = 0n;
  constructor(private readonly clockMicros: () => bigint = wallMicros) {}

  /** A fresh id, strictly greater than every id this generator gave or saw before. */
  next(): string {
    const now = this.clockMicros();
    this.last = now > this.last ? now : this.last + 1n;
    return formatMicros(this.last);
  }

  /** Tell the generator an id is taken (e.g. by another process) so it never hands out that id or a smaller one. */
  observe(jid: string): void {
    const m = jidToMicros(jid);
    if (m > this.last) this.last = m;
  }
}

/** The process-wide generator used by the stores unless a test injects its own. */
export const processJids = new JidGenerator();

/** A fresh job id from the process-wide generator. */
export function newJid(): string {
  return processJids.next();
}
