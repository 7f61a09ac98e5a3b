// `orch pillar show <host>`: the compiled pillar of one host, secrets masked, as YAML (or JSON with -o json).
// Parses argv and prints; compiling lives in src/pillar. No connection is opened: the facts pillar templates see are
// the host's cached by the last run, or those of --facts <file>, and a line on stderr says which (or that there are
// none, so facts-dependent values show their defaults rather than this host's branch).
import type { Command } from 'commander';
import type { ProjectConfig } from '../../config/project.js';
import { OrchError } from '../../errors.js';
import type { SecretResolver } from '../../secrets/ref.js';
import { globalOptions, projectFor } from '../verb.js';

interface ShowOptions {
  decrypt: boolean;
  facts?: string;
}

/** Register `orch pillar` and its subcommands. */
export function register(program: Command): void {
  const pillar = program.command('pillar').description('Show the pillar data hosts receive');
  pillar
    .command('show')
    .description('Print the merged pillar of one host (secrets masked); -o json for JSON')
    .argument('<host>', 'host name as written in the inventory')
    .option('--no-decrypt', 'do not decrypt secrets; show them as <secret>')
    .option(
      '--facts <file>',
      "the host's facts from this file (`orch facts <host> -o json`) instead of the cache",
    )
    .action(async (hostName: string, opts: ShowOptions, cmd: Command) => {
      const [{ loadInventory }, { compilePillar }, { formatPillar }] = await Promise.all([
        import('../../inventory/load.js'),
        import('../../pillar/load.js'),
        import('../../pillar/show.js'),
      ]);
      const project = projectFor(cmd);
      const inv = loadInventory(project);
      const host = inv.hosts.get(hostName);
      if (!host) throw new OrchError('UNKNOWN_TARGET', `no host named '${hostName}' in the inventory`);
      // Also without --decrypt (no resolver is made then): a plain-text password is worth a warning.
      const { warnPlaintextSecrets } = await import('../../secrets/plaintext.js');
      warnPlaintextSecrets(project.root);
      const resolver = opts.decrypt ? await secretResolver(project) : undefined;
      const cache = await import('../../facts/cache.js');
      let facts: import('../../facts/types.js').Facts | undefined;
      let source: import('../../facts/cache.js').FactsSource = { kind: 'none' };
      if (opts.facts !== undefined) {
        facts = cache.readFactsFile(opts.facts, host.name);
        source = { kind: 'file', file: (await import('node:path')).resolve(opts.facts) };
      } else {
        const cached = cache.readCachedFacts(project.stateDir, host.name);
        if (cached) ({ facts, source } = cached);
      }
      process.stderr.write(`orch: ${cache.describeFactsSource(host.name, source)}\n`);
      const compiled = await compilePillar(project, host, {
        ...(resolver ? { resolver } : {}),
        ...(facts ? { facts } : {}),
      });
      const format = globalOptions(cmd).output === 'json' ? 'json' : 'yaml';
      process.stdout.write(formatPillar(compiled, format));
    });
}

// The secrets store plugs in here. Without it (module absent) secrets stay encrypted and show as <secret>;
// when it is present but cannot decrypt, its SECRET_ERROR is reported (fail closed, never a silent mask).
async function secretResolver(project: ProjectConfig): Promise<SecretResolver | undefined> {
  let mod: { defaultResolver(p: ProjectConfig): SecretResolver | Promise<SecretResolver> };
  try {
    mod = await import('../../secrets/resolver.js');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /secrets[/\\]resolver/.test(String((err as Error).message))) {
      process.stderr.write('orch: secrets store not available; secrets are shown as <secret>\n');
      return undefined;
    }
    throw err;
  }
  return await mod.defaultResolver(project);
}
