// What the test suites need on the machine (what scripts/ci-deps.sh installs, and root), checked once by `npm test`
// before anything runs, and by each suite that needs it: a missing prerequisite fails with what to run, it never
// skips silently. Only ORCH_TEST_UNIT_ONLY=1 skips the suites that need them (and says so once).
import { existsSync } from 'node:fs';

/** Set explicitly to run the unit tests only: suites needing sshd, the lab or PostgreSQL skip. */
export const UNIT_ONLY = process.env.ORCH_TEST_UNIT_ONLY === '1';

export const PREREQ_HINT =
  'run `sudo bash scripts/ci-deps.sh` (or `ORCH_TEST_UNIT_ONLY=1 npm test` for the unit tests only)';

const TOOLS: Array<[string, string]> = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  ['sudo', 'sudo'],
  ['/usr/lib/postgresql/15/bin/postgres', 'postgresql-15'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['script', 'bsdutils'],
  ['ps', 'procps'],
  ['busybox', 'busybox'],
  ['shellcheck', 'shellcheck'],
  // FreeBSD's root shell up to 13: orch_run_as's su branch is tested under it (test/unit/shell/run-as-su.test.ts).
  ['/bin/csh', 'tcsh'],
  // Counts the processes a helper starts (test/unit/shell/host-cost.test.ts) and the bench's per-host figures.
  ['strace', 'strace'],
  // become by doas(1), numeric and named users (test/integration/doas.test.ts).
  ['doas', 'opendoas'],
  // Booted lab hosts (test/integration/booted*.test.ts): Debian images booted under systemd-nspawn.
  ['/usr/bin/systemd-nspawn', 'systemd-container'],
  ['/usr/sbin/debootstrap', 'debootstrap'],
];

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** What is missing, each as `tool (package)`, plus `root` when not root; [] when everything is there. */
export function missingPrereqs(
  exists: (file: string) => boolean = existsSync,
  uid: number | undefined = process.getuid?.(),
  platform: string = process.platform,
): string[] {
  if (platform !== 'linux') return ['Linux'];
  const onPath = (cmd: string): boolean =>
    cmd.startsWith('/') ? exists(cmd) : PATH_DIRS.some((d) => exists(`${d}/${cmd}`));
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `${cmd} (${pkg})`);
  return uid === 0 ? missing : ['root', ...missing];
}

/**
 * For a suite's `before`: returns when the machine has what `what` needs; under ORCH_TEST_UNIT_ONLY=1 skips; else
 * fails with one line saying what is missing and what to run.
 */
export function requireIntegration(
  ctx: Mocha.Context,
  what: string,
  missing: string[] = missingPrereqs(),
): void {
  if (UNIT_ONLY) ctx.skip();
  if (missing.length === 0) return;
  throw new Error(`${what} needs ${missing.join(', ')}: ${PREREQ_HINT}`);
}
