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

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Why the lab cannot run, or undefined when it can; `exists` and `uid` are injectable for tests. */
export function prereqProblem(
  exists: (file: string) => boolean = existsSync,
  uid: number | undefined = process.getuid?.(),
): string | undefined {
  if (uid !== 0) return 'orch lab must run as root (it creates namespaces, a bridge and mounts)';
  const onPath = (cmd: string): boolean =>
    cmd.startsWith('/') ? exists(cmd) : PATH_DIRS.some((d) => exists(`${d}/${cmd}`));
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd));
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  return (
    `orch lab needs ${missing.map(([c]) => c).join(', ')}: install ${pkgs} ` +
    `(apt-get install ${pkgs}, or scripts/ci-deps.sh); the lab does not install packages itself`
  );
}

/** Throw a LAB_ERROR naming what to install when the lab cannot work on this machine. */
export function checkPrereqs(): void {
  if (process.platform !== 'linux')
    throw new OrchError('LAB_ERROR', 'orch lab needs Linux (network and mount namespaces)');
  const problem = prereqProblem();
  if (problem) throw new OrchError('LAB_ERROR', problem);
}

const BOOTED_TOOLS: Array<[string, string]> = [
  ['systemd-nspawn', 'systemd-container'],
  ['debootstrap', 'debootstrap'],
  ['chroot', 'coreutils'],
];

/** Why booted hosts cannot run here (beyond the lab's own needs), or undefined; `exists` injectable for tests. */
export function bootedPrereqProblem(exists: (file: string) => boolean = existsSync): string | undefined {
  const missing = BOOTED_TOOLS.filter(([cmd]) => !PATH_DIRS.some((d) => exists(`${d}/${cmd}`)));
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  return (
    `booted lab hosts need ${missing.map(([c]) => c).join(', ')}: install ${pkgs} ` +
    `(apt-get install ${pkgs}, or scripts/ci-deps.sh)`
  );
}

/** Throw a LAB_ERROR naming what to install when booted hosts (or their images) cannot be made here. */
export function checkBootedPrereqs(): void {
  const problem = bootedPrereqProblem();
  if (problem) throw new OrchError('LAB_ERROR', problem);
}
