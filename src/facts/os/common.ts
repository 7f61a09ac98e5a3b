// Shapes and helpers shared by the per-OS builders: the OsPaths interface, account/package/service name checks,
// package queries. Builds text only; runs nothing.
import { OrchError } from '../../errors.js';
import { shQuote } from '../../shell/quote.js';
import type { PkgTool } from '../types.js';

/** A user or group name in the POSIX portable character set (a trailing $ for Samba machine accounts). */
export const OS_ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
/** A numeric user or group id (below 2^32 - 1, which means "no change" to chown). */
export const OS_ACCOUNT_ID = /^(0|[1-9][0-9]{0,9})$/;

export type ServiceAction = 'start' | 'stop' | 'restart' | 'reload' | 'status';

export interface PostgresPaths {
  /** The cluster these paths are for (Debian's default 'main', elsewhere 'data'). */
  cluster: string;
  /** The server package: postgresql-15 (Debian), postgresql15-server (FreeBSD ports, PGDG RPMs). */
  serverPackage: string;
  /** Home directory of pgUser (where its .pgpass lives). */
  home: string;
  /**
   * argv creating the first cluster where the package creates none (FreeBSD, RHEL); null on Debian, whose package
   * runs pg_createcluster itself.
   */
  initdb: string[] | null;
  dataDir: string;
  /** Directory of postgresql.conf and pg_hba.conf. */
  confDir: string;
  binDir: string;
  socketDir: string;
  /** Name for serviceCmd/enableCmd, e.g. postgresql@15-main, postgresql-16, postgresql. */
  serviceName: string;
  /** Unix user owning the data directory. */
  pgUser: string;
}

export interface OsPaths {
  /** FreeBSD userland (rc.d, BSD stat, su without -s) rather than Linux. */
  freebsd: boolean;
  /**
   * Start/stop/... a service: systemctl, service (sysvinit), or on FreeBSD `service <name> one<action>`, which acts
   * whether or not rc.conf enables it (plain `start` on a service not enabled prints a warning and exits 0).
   */
  serviceCmd(name: string, action: ServiceAction): string[];
  /** The same argv as serviceCmd; the name the service states use. */
  serviceActionCmd(name: string, action: ServiceAction): string[];
  /** Shell condition: the service is installed (a masked systemd unit counts, so starting it fails loudly). */
  serviceExists(name: string): string;
  /** Shell condition: the service runs (quiet; read-only). */
  serviceActive(name: string): string;
  /**
   * Shell running the /bin/sh command string `command` as `user`: `su -s /bin/sh` on Linux; on FreeBSD (whose su
   * has no -s and runs the caller's login shell) the batch's orch_run_as.
   */
  suCommand(user: string, command: string): string;
  /** Enable a service at boot: systemctl enable, update-rc.d, chkconfig, or sysrc <name>_enable=YES. */
  enableCmd(name: string): string[];
  /** Disable a service at boot: systemctl disable, update-rc.d disable, chkconfig off, or sysrc <name>_enable=NO. */
  disableCmd(name: string): string[];
  /** Exits 0 when the service is enabled at boot. */
  isEnabledCmd(name: string): string[];
  /** A /bin/sh script printing one line per package: `ok\t<name>\t<version>` or `missing\t<name>` (see parsePkgQuery). */
  pkgQueryScript(names: string[]): string;
  /** PostgreSQL's paths for a version and cluster (Debian default 'main', elsewhere 'data'); discovered facts win. */
  postgresPaths(version: string, cluster?: string): PostgresPaths;
}

/** Parse pkgQueryScript output: package name -> installed version, or null when not installed. */
export function parsePkgQuery(output: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const line of output.split('\n')) {
    const [state, name, version] = line.replace(/\r$/, '').split('\t');
    if (!name) continue;
    if (state === 'ok') out.set(name, version ?? '');
    else if (state === 'missing') out.set(name, null);
  }
  return out;
}

// Package and service names reach argv: refuse anything that could read as an option or hold whitespace.
const PKG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+:~=@/*-]*$/;
const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]*$/;

/** Throw unless every name is a plausible package name. */
export function checkPkgNames(names: readonly string[]): void {
  if (names.length === 0) throw new OrchError('STATE_ERROR', 'no package names given');
  for (const n of names) {
    if (!PKG_NAME.test(n)) throw new OrchError('STATE_ERROR', `invalid package name: ${JSON.stringify(n)}`);
  }
}

/** Throw unless the name is a plausible service name. */
export function checkServiceName(name: string): void {
  if (!SERVICE_NAME.test(name))
    throw new OrchError('STATE_ERROR', `invalid service name: ${JSON.stringify(name)}`);
}

/** The query lines for one package tool; each line prints the ok/missing record of one name. */
export function pkgQueryLines(tool: PkgTool, names: readonly string[]): string {
  checkPkgNames(names);
  const lines = ['# package query (read-only)'];
  // pkg(7): on a host where pkg(8) is not bootstrapped yet, `pkg info` would offer to bootstrap; nothing is
  // installed there, so every name is missing.
  if (tool === 'pkg') lines.push('orch_pkg_n=0; pkg -N >/dev/null 2>&1 </dev/null && orch_pkg_n=1');
  for (const name of names) {
    const n = shQuote(name);
    const report = (installed: string): string =>
      `${installed} && printf 'ok\\t%s\\t%s\\n' ${n} "$v" || printf 'missing\\t%s\\n' ${n}`;
    switch (tool) {
      case 'apt':
        lines.push(
          `v=$(dpkg-query -W -f ${shQuote('${db:Status-Status} ${Version}')} ${n} 2>/dev/null </dev/null) || v=`,
          `case $v in 'installed '*) printf 'ok\\t%s\\t%s\\n' ${n} "\${v#installed }" ;; *) printf 'missing\\t%s\\n' ${n} ;; esac`,
        );
        break;
      case 'dnf':
      case 'yum':
        lines.push(
          report(`v=$(rpm -q --qf ${shQuote('%{VERSION}-%{RELEASE}')} ${n} 2>/dev/null </dev/null)`),
        );
        break;
      case 'pkg':
        lines.push(
          report(
            `[ "$orch_pkg_n" = 1 ] && pkg info -e ${n} </dev/null 2>/dev/null && v=$(pkg query %v ${n} 2>/dev/null </dev/null)`,
          ),
        );
        break;
      default:
        throw new OrchError('STATE_ERROR', `no known package tool on this host (found: ${tool})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
