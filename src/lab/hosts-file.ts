// The /etc/hosts every lab host gets: loopback plus every lab host. Rendering is pure; pushing writes only inside hosts.
import { OrchError } from '../errors.js';
import { execInRecord, hostAlive } from './exec.js';
import { shortName } from './addresses.js';
import type { RegistryHost } from './types.js';
import { BRIDGE_IP } from './paths.js';

/** /etc/hosts text listing every lab host by full and short name. */
export function renderHostsFile(hosts: ReadonlyArray<{ name: string; ip: string }>): string {
  const sorted = [...hosts].sort((a, b) => a.name.localeCompare(b.name));
  return [
    '# Written by orch lab: every lab host. Rewritten when hosts are added or removed.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${BRIDGE_IP}\torch-lab-controller`,
    ...sorted.map((h) => `${h.ip}\t${h.name} ${shortName(h.name)}`),
    '',
  ].join('\n');
}

/** Replace /etc/hosts in every running host (atomically: temp file + rename inside the host's overlay). */
export async function pushHostsFile(hosts: readonly RegistryHost[], content: string): Promise<void> {
  await Promise.all(
    hosts.filter(hostAlive).map(async (h) => {
      const r = await execInRecord(
        h,
        ['/bin/sh', '-c', 'cat > /etc/hosts.orch-lab && mv -f /etc/hosts.orch-lab /etc/hosts'],
        {
          input: content,
          timeoutMs: 15_000,
        },
      );
      if (r.code !== 0)
        throw new OrchError('LAB_ERROR', `cannot update /etc/hosts in ${h.name}: ${r.stderr.trim()}`);
    }),
  );
}
