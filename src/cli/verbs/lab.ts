// `orch lab up|down|status|image`: real test hosts on this machine. Parses argv and prints; the work is in src/lab.
import type { Command } from 'commander';
import { OrchError } from '../../errors.js';
import type { ImageInfo, LabHost } from '../../lab/index.js';
import { globalOptions, printJson, projectFor } from '../verb.js';
import { table as textTable } from '../../text/table.js';

function columns(rows: string[][]): string {
  return textTable(rows).trimEnd();
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`;
}

function table(hosts: readonly LabHost[]): string {
  return columns([
    ['NAME', 'KIND', 'IP', 'PID', 'ALIVE', 'BOOT', 'LOG'],
    ...hosts.map((h) => [
      h.name,
      h.kind === 'booted' ? `booted:${h.os ?? '?'}` : 'light',
      h.ip,
      String(h.pid),
      h.alive ? 'yes' : 'NO',
      seconds(h.bootMs),
      h.logFile,
    ]),
  ]);
}

function imageTable(images: readonly ImageInfo[]): string {
  return columns([
    ['SUITE', 'POSTGRESQL', 'STATE', 'SIZE', 'BUILT', 'BUILD', 'PATH'],
    ...images.map((i) => [
      i.suite,
      String(i.postgresql),
      i.state,
      i.meta ? `${Math.round(i.meta.bytes / 1e6)} MB` : '-',
      i.meta?.builtAt.slice(0, 19).replace('T', ' ') ?? '-',
      seconds(i.meta?.buildMs),
      i.path,
    ]),
  ]);
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new OrchError('BAD_INPUT', `--count wants a whole number, got '${v}'`);
  return n;
}

const toStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function registerImage(lab: Command): void {
  const image = lab
    .command('image')
    .description(
      'Debian images booted lab hosts run from (bullseye: PostgreSQL 13, bookworm: 15, trixie: 17), built ' +
        "with debootstrap from this machine's apt mirror and cached in $ORCH_LAB_IMAGES " +
        '(default /var/cache/orch-lab/images)',
    );

  image
    .command('build')
    .description(
      'build the images of these suites when absent or built from an older recipe (a minute or two each)',
    )
    .argument('<suites...>', 'bullseye, bookworm, trixie')
    .option('--force', 'rebuild even when the image is up to date')
    .action(async (suites: string[], opts: { force?: boolean }, cmd: Command) => {
      const { buildLabImage, parseSuite } = await import('../../lab/index.js');
      const parsed = suites.map(parseSuite);
      const out: Array<ImageInfo & { built: boolean }> = [];
      for (const s of parsed) {
        const { info, built } = await buildLabImage(s, { force: opts.force, log: toStderr });
        out.push({ ...info, built });
        if (globalOptions(cmd).output !== 'json')
          toStderr(built ? `${s.name}: built in ${seconds(info.meta?.buildMs)}` : `${s.name}: up to date`);
      }
      if (globalOptions(cmd).output === 'json') printJson(out);
      else process.stdout.write(`${imageTable(out)}\n`);
    });

  image
    .command('list')
    .description('list the images: state (ready, stale: recipe changed, absent), size, build time, path')
    .action(async (_opts: unknown, cmd: Command) => {
      const { listImages } = await import('../../lab/index.js');
      const images = listImages();
      if (globalOptions(cmd).output === 'json') printJson(images);
      else process.stdout.write(`${imageTable(images)}\n`);
    });

  image
    .command('rm')
    .description('remove the images of these suites (refused while booted hosts run on them)')
    .argument('<suites...>', 'bullseye, bookworm, trixie')
    .action(async (suites: string[], _opts: unknown, cmd: Command) => {
      const { parseSuite, removeLabImage } = await import('../../lab/index.js');
      const removed: string[] = [];
      for (const s of suites.map(parseSuite)) if (await removeLabImage(s)) removed.push(s.name);
      if (globalOptions(cmd).output === 'json') printJson({ removed });
      else process.stdout.write(removed.length ? `removed: ${removed.join(', ')}\n` : 'no such images\n');
    });
}

/** Register `orch lab` and its subverbs. */
export function register(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'test hosts on this machine (Linux, root): light hosts (network + mount namespaces, each with its own ' +
        'sshd) or booted hosts (a Debian image with systemd as PID 1, under systemd-nspawn)',
    );

  lab
    .command('up')
    .description(
      'bring up lab hosts (default: primary and replica.example.com) and export key, inventory and known_hosts ' +
        'to <stateDir>/lab/; hosts already running are kept, dead ones rebuilt. With --os, new hosts boot ' +
        "a real Debian install (systemd, the distro's sshd and PostgreSQL) on a disposable copy-on-write layer",
    )
    .argument('[names...]', 'host names; a bare label means <label>.example.com')
    .option(
      '-n, --count <n>',
      'also bring up lab01..labNN.example.com (with no names: only those)',
      parseCount,
    )
    .option(
      '--os <suite>',
      'boot the hosts from this Debian image: bullseye (PostgreSQL 13), bookworm (15), trixie (17); ' +
        'the image is built first when missing',
    )
    .action(async (names: string[], opts: { count?: number; os?: string }, cmd: Command) => {
      const { labUp } = await import('../../lab/index.js');
      const hosts = await labUp(names, {
        count: opts.count,
        os: opts.os,
        project: projectFor(cmd),
        log: toStderr,
      });
      if (globalOptions(cmd).output === 'json') printJson(hosts);
      else process.stdout.write(`${table(hosts)}\n`);
    });

  lab
    .command('down')
    .description(
      'take lab hosts down (all of them, the bridge and /run/orch-lab when no names are given); a booted host ' +
        'is powered off and its copy-on-write layer removed',
    )
    .argument('[names...]', 'hosts to remove (full or short names)')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const { labDown } = await import('../../lab/index.js');
      const removed = await labDown(names, { project: projectFor(cmd) });
      if (globalOptions(cmd).output === 'json') printJson(removed);
      else
        process.stdout.write(
          removed.length ? `removed: ${removed.map((h) => h.name).join(', ')}\n` : 'no lab hosts\n',
        );
    });

  lab
    .command('status')
    .description('list lab hosts with kind, address, pid (sshd or systemd-nspawn), whether they are alive')
    .action(async (_opts: unknown, cmd: Command) => {
      const { labStatus } = await import('../../lab/index.js');
      const hosts = await labStatus();
      if (globalOptions(cmd).output === 'json') printJson(hosts);
      else process.stdout.write(hosts.length ? `${table(hosts)}\n` : 'no lab hosts (orch lab up)\n');
    });

  registerImage(lab);
}
