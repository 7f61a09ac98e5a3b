// `orch hosts <target>`: the hosts a target names, without touching them unless a term matches on facts (then one
// facts exec on each host the inventory leaves undecided). The same resolution every other verb uses.
import type { Command } from 'commander';
import type { HostSpec } from '../../inventory/types.js';
import { table } from '../../text/table.js';
import { LIMIT_HELP, targetHosts, type TargetFlags } from '../targets.js';
import { globalOptions, printJson, projectFor } from '../verb.js';

interface HostsFlags extends TargetFlags {
  acceptNewHostkeys?: boolean;
  vars?: boolean;
}

/** The JSON row of one host. */
export function hostJson(h: HostSpec, withVars: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    groups: h.groups,
  };
  if (h.become) {
    row.become = h.become.user;
    row.becomeMethod = h.become.method;
  }
  if (h.jumps?.length) row.jumps = h.jumps.map((j) => `${j.user}@${j.name}:${j.port}`);
  if (h.sshConfigFields?.length) row.fromSshConfig = h.sshConfigFields;
  if (withVars) row.vars = h.vars;
  row.source = h.source.line ? `${h.source.file}:${h.source.line}` : h.source.file;
  return row;
}

export function register(program: Command): void {
  program
    .command('hosts')
    .description(
      'list the hosts a target matches (names, globs, group:, !, &, key=value; see docs/TARGETING.md)',
    )
    .argument('[target]', "the target, e.g. 'group:db&!db3*' or 'os=FreeBSD' (default '*')", '*')
    .option('-g, --group <name>', 'only hosts of this group')
    .option('-l, --limit <target>', LIMIT_HELP)
    .option('--vars', 'show each host’s inventory vars (group and host vars merged)')
    .option('--accept-new-hostkeys', 'record unknown host keys when facts must be gathered')
    .addHelpText(
      'after',
      `
Examples:
  orch hosts 'group:db&!db3*'
  orch hosts 'pg_role=standby' -o json
  orch hosts 'os=FreeBSD,group:web'   (gathers facts only from hosts not already in group:web)`,
    )
    .action(async (target: string, o: HostsFlags, cmd: Command) => {
      const project = projectFor(cmd);
      const { hosts, facts } = await targetHosts(project, target, o, {
        acceptNewHostKeys: o.acceptNewHostkeys,
      });
      if (globalOptions(cmd).output === 'json') {
        printJson({
          target,
          hosts: hosts.map((h) => {
            const row = hostJson(h, o.vars === true);
            const f = facts.get(h.name);
            if (f) row.facts = { os: f.osFamily, distro: f.distro, os_version: f.osVersion };
            return row;
          }),
          factsGathered: [...facts.keys()],
        });
        return;
      }
      const rows = [['HOST', 'ADDRESS', 'USER', 'GROUPS', ...(o.vars ? ['VARS'] : [])]];
      for (const h of hosts) {
        rows.push([
          h.name,
          `${h.address}:${h.port}${h.jumps?.length ? ` via ${h.jumps.map((j) => j.name).join(',')}` : ''}`,
          h.become ? `${h.user} (${h.become.method} ${h.become.user})` : h.user,
          h.groups.join(',') || '-',
          ...(o.vars ? [JSON.stringify(h.vars)] : []),
        ]);
      }
      const gathered = facts.size ? `, facts gathered from ${facts.size}` : '';
      process.stdout.write(`${table(rows)}\n${hosts.length} host(s)${gathered}\n`);
    });
}
