// The in-namespace setup script of a host: overlays over the base system's top-level dirs, tmpfs /run /tmp
// /dev/shm, hostname, fresh host keys, root's key and .bashrc guard, the `deploy` user, then exec sshd.
// It runs inside the host's private mount namespace only; nothing here mounts in or writes to the root namespace
// (writes go to the overlays, whose upper dirs live in the host's runtime dir).
import path from 'node:path';
import { shJoin, shQuote } from '../shell/quote.js';
import { OVERLAY_DIRS } from './paths.js';

/** The guard put at the top of root's .bashrc in a host: non-interactive shells (every sshd exec) return at once. */
export const BASHRC_GUARD = 'case $- in *i*) ;; *) return;; esac';

export const SUDOERS_DROPIN = '/etc/sudoers.d/orch-lab-deploy';

/** The local apt repository offered to lab hosts (made by scripts/lab-apt-repo.sh before hosts start). */
export const LAB_APT_DIR = '/var/cache/orch-lab-apt';

export interface SetupParams {
  name: string;
  /** Host runtime dir holding upper/<dir>, work/<dir>, sshd_config, hosts, authorized_keys. */
  dir: string;
}

/** Mount options of one overlay; lowerdir is the real directory. */
export function overlayOptions(dir: string, top: string): string {
  return `lowerdir=/${top},upperdir=${path.join(dir, 'upper', top)},workdir=${path.join(dir, 'work', top)}`;
}

/** The /bin/sh script run as `unshare --mount --uts --ipc --propagation private -- /bin/sh -c <script>`. */
export function buildSetupScript(p: SetupParams): string {
  const f = (name: string): string => path.join(p.dir, name);
  const lines: string[] = ['set -eu'];
  // Overlays first: once mounted they keep working after tmpfs /run hides their upper dirs.
  for (const top of OVERLAY_DIRS) {
    lines.push(shJoin(['mount', '-t', 'overlay', 'orch-lab', '-o', overlayOptions(p.dir, top), `/${top}`]));
  }
  // Copy in what lives in the runtime dir while it is still visible.
  lines.push(
    shJoin(['cp', f('sshd_config'), '/etc/ssh/sshd_config']),
    shJoin(['cp', f('hosts'), '/etc/hosts']),
    shJoin(['install', '-d', '-m', '0700', '/root/.ssh']),
    shJoin(['install', '-m', '0600', f('authorized_keys'), '/root/.ssh/authorized_keys']),
  );
  lines.push(
    shJoin(['mount', '-t', 'tmpfs', '-o', 'mode=0755,nosuid,nodev', 'orch-lab-run', '/run']),
    shJoin(['mount', '-t', 'tmpfs', '-o', 'mode=1777,nosuid,nodev', 'orch-lab-tmp', '/tmp']),
    shJoin(['mount', '-t', 'tmpfs', '-o', 'mode=1777,nosuid,nodev', 'orch-lab-shm', '/dev/shm']),
    shJoin(['hostname', p.name]),
    `printf '%s\\n' ${shQuote(p.name)} > /etc/hostname`,
    shJoin(['install', '-d', '-m', '0755', '/run/sshd']),
    // postgresql-common sees no systemd (tmpfs /run) and runs pg_ctl itself; it needs its socket dir.
    `if id postgres >/dev/null 2>&1; then ${shJoin(['install', '-d', '-o', 'postgres', '-g', 'postgres', '-m', '2775', '/run/postgresql'])}; fi`,
    // Fresh host keys: the base system's keys are hidden (whiteouts in the overlay), new ones generated per host.
    'rm -f /etc/ssh/ssh_host_*',
    shJoin([
      'ssh-keygen',
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      `root@${p.name}`,
      '-f',
      '/etc/ssh/ssh_host_ed25519_key',
    ]),
    shJoin([
      'ssh-keygen',
      '-q',
      '-t',
      'ecdsa',
      '-N',
      '',
      '-C',
      `root@${p.name}`,
      '-f',
      '/etc/ssh/ssh_host_ecdsa_key',
    ]),
    `if [ -f /root/.bashrc ]; then { printf '%s\\n' ${shQuote(BASHRC_GUARD)}; cat /root/.bashrc; } > /root/.bashrc.orch-lab && mv -f /root/.bashrc.orch-lab /root/.bashrc; fi`,
    // deploy: /bin/sh login shell, password field '*' (not locked: with UsePAM no sshd refuses locked accounts).
    `if ! id deploy >/dev/null 2>&1; then ${shJoin(['useradd', '-m', '-s', '/bin/sh', '-p', '*', '-c', 'orch lab deploy', 'deploy'])}; fi`,
    shJoin(['install', '-d', '-m', '0700', '-o', 'deploy', '-g', 'deploy', '/home/deploy/.ssh']),
    shJoin([
      'install',
      '-m',
      '0600',
      '-o',
      'deploy',
      '-g',
      'deploy',
      '/root/.ssh/authorized_keys',
      '/home/deploy/.ssh/authorized_keys',
    ]),
    `if [ -x /usr/bin/sudo ] && [ -d /etc/sudoers.d ]; then printf '%s\\n' ${shQuote('deploy ALL=(ALL) NOPASSWD: ALL')} > ${SUDOERS_DROPIN} && chmod 0440 ${SUDOERS_DROPIN}; fi`,
    // Lab hosts have no route out: when the local apt repository exists (scripts/lab-apt-repo.sh), it is their
    // only package source, so pkg states really install (after `apt-get update`, which `refresh: true` runs).
    `if [ -f ${LAB_APT_DIR}/Packages ]; then rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; printf '%s\\n' ${shQuote(`deb [trusted=yes] file:${LAB_APT_DIR} ./`)} > /etc/apt/sources.list.d/orch-lab.list; fi`,
    'exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config',
  );
  return `${lines.join('\n')}\n`;
}
