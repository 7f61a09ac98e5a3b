// What the lab needs on the machine. The lab never installs packages; it says what is missing.
import { existsSync } from 'node:fs';
import { OrchError } from '../errors.js';

const TOOLS: Array<[string, string]> = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['useradd', 'passwd'],
];

function onPath(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) =>
    existsSync(`${d}/${cmd}`),
  );
}

/** Throw a LAB_ERROR naming what to install when the lab cannot work on this machine. */
export function checkPrereqs(): void {
  if (process.platform !== 'linux')
    throw new OrchError('LAB_ERROR', 'orch lab needs Linux (network and mount namespaces)');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new OrchError(
      'LAB_ERROR',
      'orch lab must run as root (it creates namespaces, a bridge and mounts)',
    );
  }
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
    throw new OrchError(
      'LAB_ERROR',
      `orch lab needs ${missing.map(([c]) => c).join(', ')}: install ${pkgs.join(' ')} ` +
        `(apt-get install ${pkgs.join(' ')}, or scripts/ci-deps.sh); the lab does not install packages itself`,
    );
  }
}
