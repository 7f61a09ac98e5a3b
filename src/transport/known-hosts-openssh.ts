// Trusting the user's OpenSSH known_hosts besides orch's own (opt-in: orch.yaml `openssh_known_hosts`). orch's file
// decides first; a host it does not know is looked up in the OpenSSH files (hashed names, `[host]:port`, wildcards).
// An @revoked line in any file refuses the key. @cert-authority lines cannot be honoured by checking certificates
// (ssh2 negotiates no certificate host key types), so a host covered only by one is refused, never let through.
import { HostKeyChangedError, HostKeyUnknownError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { decideHostKey, type HostKeyDecision } from './host-key-policy.js';
import { fingerprint, keyTypeOf, type KnownHostEntry, type KnownHosts } from './known-hosts.js';

/** Decide about an offered key with orch's store and, after it, the OpenSSH stores (read-only: never written). */
export function decideWithOpenSsh(
  own: KnownHosts,
  openssh: readonly KnownHosts[],
  host: HostSpec,
  keyBlob: Buffer,
  acceptNew: boolean,
): HostKeyDecision {
  for (const store of openssh) {
    const v = store.check(host, keyBlob);
    if (v.status === 'revoked') {
      return {
        accept: false,
        error: new HostKeyChangedError(
          host.name,
          `${where(host)} offered host key ${describe(keyBlob)}, which ${store.file}:${v.entry.lineNo} marks @revoked. ` +
            'orch refuses to connect.',
        ),
      };
    }
  }
  if (openssh.length === 0 || own.check(host, keyBlob).status !== 'unknown')
    return decideHostKey(own, host, keyBlob, acceptNew);
  for (const store of openssh) {
    const v = store.check(host, keyBlob);
    if (v.status === 'known') return { accept: true, recordNew: false };
    if (v.status === 'changed') return decideHostKey(store, host, keyBlob, false);
  }
  const authorities = openssh.flatMap((s) =>
    s
      .lookup(host)
      .filter((e) => e.marker === 'cert-authority')
      .map((e) => ({ file: s.file, entry: e })),
  );
  if (authorities.length) return { accept: false, error: certificateError(host, keyBlob, authorities) };
  return decideHostKey(own, host, keyBlob, acceptNew);
}

/** Host keys of the OpenSSH stores for this host, for ordering the host key algorithms. */
export function opensshEntries(openssh: readonly KnownHosts[], host: HostSpec): KnownHostEntry[] {
  return openssh.flatMap((s) => s.lookup(host));
}

function certificateError(
  host: HostSpec,
  keyBlob: Buffer,
  authorities: { file: string; entry: KnownHostEntry }[],
): HostKeyUnknownError {
  const lines = authorities.map((a) => `${a.file}:${a.entry.lineNo}`).join(', ');
  return new HostKeyUnknownError(
    host.name,
    `${where(host)}: host key ${describe(keyBlob)} is not listed; ${lines} trusts a certificate authority for this ` +
      'host, but orch cannot verify host certificates (its SSH library does not support them), so it does not ' +
      `accept the host on that authority. Verify the fingerprint, then \`orch hostkeys trust ${host.name}\`.`,
  );
}

function where(host: HostSpec): string {
  return `${host.name} (${host.address}:${host.port})`;
}

function describe(keyBlob: Buffer): string {
  return `${keyTypeOf(keyBlob) || 'unknown type'} ${fingerprint(keyBlob)}`;
}
