// What a booted host's image is made of: debootstrap's package list, the files orch adds, the script run in the
// tree afterwards. Its hash names the recipe; an image whose stored hash differs is rebuilt. Pure.
import { createHash } from 'node:crypto';
import { shJoin } from '../shell/quote.js';
import type { Suite } from './suites.js';

/** Bump when the build steps change in a way the recipe's data does not show. */
const RECIPE_VERSION = 1;

export const FIRSTBOOT_UNIT = 'orch-lab-firstboot.service';
export const FIRSTBOOT_SCRIPT = '/usr/local/sbin/orch-lab-firstboot';
export const FIRSTBOOT_DONE = '/var/lib/orch-lab/first-boot-done';
export const DEPLOY_SUDOERS = '/etc/sudoers.d/orch-lab-deploy';

export interface ImageFile {
  mode: number;
  content: string;
}

export interface ImageRecipe {
  version: number;
  suite: string;
  postgresql: number;
  variant: 'minbase';
  /** debootstrap --include: installed the normal way, maintainer scripts and all. */
  packages: string[];
  /** Files written into the tree after debootstrap (absolute paths inside the image). */
  files: Record<string, ImageFile>;
  /** /bin/sh script run in the tree (chroot) after the files are written. */
  script: string;
}

/** The packages of a small Debian server that orch manages: init, ssh, sudo, PostgreSQL, network config. */
export function imagePackages(suite: Suite): string[] {
  return [
    'systemd',
    'systemd-sysv',
    'dbus',
    'openssh-server',
    'sudo',
    `postgresql-${suite.postgresql}`,
    'iproute2',
    'ifupdown',
    'procps',
  ];
}

/**
 * First boot of a host made from the image: what installing the packages does on a real machine, done on each
 * host, so no two hosts share what the build made. SSH host keys normally come from the lab (written into the
 * host's own layer before boot); the default cluster is made and started as the package's postinst does.
 */
function firstbootScript(suite: Suite): string {
  const v = String(suite.postgresql);
  return [
    '#!/bin/sh',
    '# orch lab: first boot of a host made from this image (host keys, the default PostgreSQL cluster).',
    'set -eu',
    '[ -e /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A',
    `if [ ! -d /etc/postgresql/${v}/main ]; then`,
    // The postinst's own call (postgresql-common of every supported release), then its start of the cluster.
    `  ${shJoin(['pg_createcluster', '-u', 'postgres', v, 'main'])}`,
    `  ${shJoin(['systemctl', 'start', `postgresql@${v}-main.service`])}`,
    'fi',
    `${shJoin(['install', '-d', '-m', '0755', '/var/lib/orch-lab'])}`,
    `: > ${FIRSTBOOT_DONE}`,
    '',
  ].join('\n');
}

function firstbootUnit(): string {
  return [
    '[Unit]',
    'Description=orch lab first boot: own SSH host keys and PostgreSQL cluster',
    `ConditionPathExists=!${FIRSTBOOT_DONE}`,
    'After=local-fs.target',
    'Before=ssh.service postgresql.service',
    '',
    '[Service]',
    'Type=oneshot',
    'Environment=LANG=C.UTF-8',
    `ExecStart=${FIRSTBOOT_SCRIPT}`,
    'RemainAfterExit=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The script run in the fresh tree: drop what the build made that must be each host's own; the deploy user. */
function customizeScript(suite: Suite): string {
  const v = String(suite.postgresql);
  return [
    'set -eu',
    `if [ -d /etc/postgresql/${v}/main ]; then ${shJoin(['pg_dropcluster', v, 'main'])}; fi`,
    'rm -f /etc/ssh/ssh_host_*',
    // debootstrap copies the builder's hostname; a host gets its own at boot.
    "printf 'debian\\n' > /etc/hostname",
    // deploy: /bin/sh login shell, '*' password (key login only), sudo without password, as on the light hosts.
    `if ! id deploy >/dev/null 2>&1; then ${shJoin(['useradd', '-m', '-s', '/bin/sh', '-p', '*', '-c', 'orch lab deploy', 'deploy'])}; fi`,
    shJoin(['systemctl', 'enable', FIRSTBOOT_UNIT]),
    'apt-get clean',
    '',
  ].join('\n');
}

export function imageRecipe(suite: Suite): ImageRecipe {
  return {
    version: RECIPE_VERSION,
    suite: suite.name,
    postgresql: suite.postgresql,
    variant: 'minbase',
    packages: imagePackages(suite),
    files: {
      [FIRSTBOOT_SCRIPT]: { mode: 0o755, content: firstbootScript(suite) },
      [`/etc/systemd/system/${FIRSTBOOT_UNIT}`]: { mode: 0o644, content: firstbootUnit() },
      '/etc/default/locale': { mode: 0o644, content: 'LANG=C.UTF-8\n' },
      [DEPLOY_SUDOERS]: { mode: 0o440, content: 'deploy ALL=(ALL) NOPASSWD: ALL\n' },
    },
    script: customizeScript(suite),
  };
}

/** sha256 of the recipe (keys in a fixed order), hex. The mirror is not part of it: same packages, same image. */
export function recipeHash(recipe: ImageRecipe): string {
  const files = Object.fromEntries(Object.entries(recipe.files).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = JSON.stringify({ ...recipe, files });
  return createHash('sha256').update(canonical).digest('hex');
}
