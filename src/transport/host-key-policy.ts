// The trust decision for a host key offered during the handshake, and the errors that explain a refusal.
// Policy: a known key passes; an unknown key is refused unless accept-new is on (then it is recorded once the
// handshake proves the host holds it); a changed or revoked key is always refused. Writes nothing itself.
import { HostKeyChangedError, HostKeyUnknownError, type TransportError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { fingerprint, keyTypeOf, type KnownHostEntry, type KnownHosts } from './known-hosts.js';

export type HostKeyDecision = { accept: true; recordNew: boolean } | { accept: false; error: TransportError };

/** Decide whether to continue the handshake with this key. */
export function decideHostKey(
  store: KnownHosts,
  host: HostSpec,
  keyBlob: Buffer,
  acceptNew: boolean,
): HostKeyDecision {
  const verdict = store.check(host, keyBlob);
  switch (verdict.status) {
    case 'known':
      return { accept: true, recordNew: false };
    case 'unknown':
      return acceptNew
        ? { accept: true, recordNew: true }
        : { accept: false, error: unknownKeyError(host, keyBlob) };
    case 'changed':
      return { accept: false, error: changedKeyError(store, host, keyBlob, verdict.known) };
    case 'revoked':
      return {
        accept: false,
        error: new HostKeyChangedError(
          host.name,
          `${where(host)} offered host key ${describe(keyBlob)}, which ${store.file}:${verdict.entry.lineNo} marks @revoked. ` +
            'orch refuses to connect.',
        ),
      };
  }
}

function unknownKeyError(host: HostSpec, keyBlob: Buffer): HostKeyUnknownError {
  return new HostKeyUnknownError(
    host.name,
    `${where(host)}: host key unknown (${describe(keyBlob)}). Verify the fingerprint, then trust it with ` +
      `\`orch hostkeys trust ${host.name}\` (or pass --accept-new-hostkeys).`,
  );
}

function changedKeyError(
  store: KnownHosts,
  host: HostSpec,
  keyBlob: Buffer,
  known: KnownHostEntry[],
): HostKeyChangedError {
  const old = known
    .map((e) => `${e.keyType} ${fingerprint(Buffer.from(e.keyBase64, 'base64'))} (${store.file}:${e.lineNo})`)
    .join(', ');
  return new HostKeyChangedError(
    host.name,
    `${where(host)}: HOST KEY CHANGED. Known: ${old}; offered now: ${describe(keyBlob)}. ` +
      'Someone may be intercepting the connection, or the host was reinstalled. orch refuses to connect; if the change ' +
      `is expected, run \`orch hostkeys trust ${host.name} --replace\`.`,
  );
}

/** Host key algorithms with the types already known for this host first, as OpenSSH orders them. */
export function hostKeyAlgorithmsFor(known: readonly KnownHostEntry[]): string[] {
  const all = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ];
  const preferred: string[] = [];
  for (const e of known) {
    if (e.marker) continue;
    const algos = e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType];
    for (const a of algos) if (all.includes(a) && !preferred.includes(a)) preferred.push(a);
  }
  return [...preferred, ...all.filter((a) => !preferred.includes(a))];
}

function where(host: HostSpec): string {
  const addr = host.port === 22 ? host.address : `${host.address}:${host.port}`;
  return host.name === host.address && host.port === 22 ? host.name : `${host.name} (${addr})`;
}

function describe(keyBlob: Buffer): string {
  return `${keyTypeOf(keyBlob) || 'unknown type'} ${fingerprint(keyBlob)}`;
}
