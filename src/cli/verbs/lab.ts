// `orch lab up|down|status`: real test hosts on this machine. Parses argv and prints; the work is in src/lab.
import type { Command } from 'commander';
import { OrchError } from '../../errors.js';
import { globalOptions, printJson, projectFor } from '../verb.js';

interface HostRow {
  name: string;
  short: string;
  ip: string;
  sshdPid: number;
  alive: boolean;
  logFile: string;
}

function table(hosts: readonly HostRow[]): string {
  const rows = [
    ['NAME', 'IP', 'SSHD PID', 'ALIVE', 'LOG'],
    ...hosts.map((h) => [h.name, h.ip, String(h.sshdPid), h.alive ? 'yes' : 'NO', h.logFile]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new OrchError('BAD_INPUT', `--count wants a whole number, got '${v}'`);
  return n;
}

/** Register `orch lab` and its subverbs. */
export function register(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'test hosts on this machine: network + mount namespaces, each with its own sshd (Linux, root)',
    );

  lab
    .command('up')
    .description(
      'bring up lab hosts (default: primary and replica.example.com) and export key, inventory and known_hosts ' +
        'to <stateDir>/lab/; hosts already running are kept, dead ones rebuilt',
    )
    .argument('[names...]', 'host names; a bare label means <label>.example.com')
    .option(
      '-n, --count <n>',
      'also bring up lab01..labNN.example.com (with no names: only those)',
      parseCount,
    )
    .action(async (names: string[], opts: { count?: number }, cmd: Command) => {
      const { labUp } = await import('../../lab/index.js');
      const hosts = await labUp(names, { count: opts.count, project: projectFor(cmd) });
      if (globalOptions(cmd).output === 'json') printJson(hosts);
      else process.stdout.write(`${table(hosts)}\n`);
    });

  lab
    .command('down')
    .description('take lab hosts down (all of them, the bridge and /run/orch-lab when no names are given)')
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
    .description('list lab hosts with address, sshd pid and whether they are alive')
    .action(async (_opts: unknown, cmd: Command) => {
      const { labStatus } = await import('../../lab/index.js');
      const hosts = await labStatus();
      if (globalOptions(cmd).output === 'json') printJson(hosts);
      else process.stdout.write(hosts.length ? `${table(hosts)}\n` : 'no lab hosts (orch lab up)\n');
    });
}
