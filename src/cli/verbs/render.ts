// `orch render <host> [state...]`: the host's state files after templating, and the states in execution order,
// with secrets masked. Gathers facts from the host (read-only) because templates may use them, or works offline
// with the facts cached by the last run (--offline) or given in a file (--facts), saying which; errors that need no
// facts (YAML, template syntax) are reported before connecting. `--script` prints the batch that would run.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { OrchError } from '../../errors.js';
import type { CompiledHost } from '../../engine/compile.js';
import type { FactsSource } from '../../facts/cache.js';
import type { Facts } from '../../facts/types.js';
import type { Connection } from '../../transport/types.js';
import { globalOptions, printJson, projectFor } from '../verb.js';

interface RenderFlags {
  acceptNewHostkeys?: boolean;
  offline?: boolean;
  facts?: string;
  script?: 'check' | 'apply';
}

/** The batch of a phase as it would be sent; for apply, the read-only check on the host decides what it holds. */
async function scriptOf(
  phase: 'check' | 'apply',
  conn: Connection | undefined,
  compiled: CompiledHost,
): Promise<string | undefined> {
  const { applyScript, checkPhase, checkScript } = await import('../../engine/phases.js');
  const { newNonce } = await import('../../shell/script.js');
  if (phase === 'check') return checkScript(compiled, newNonce());
  if (!conn)
    throw new OrchError(
      'BAD_INPUT',
      '--script apply runs the read-only check on the host; it cannot work with --offline or --facts',
    );
  return applyScript(compiled, await checkPhase(conn, compiled), newNonce());
}

export function register(program: Command): void {
  program
    .command('render')
    .description(
      "show a host's state files after templating and the resulting states in order (secrets masked)",
    )
    .argument('<host>', 'one host name from the inventory')
    .argument('[states...]', "state files to render instead of the top file's")
    .option('--accept-new-hostkeys', 'record an unknown host key (a changed key is still refused)')
    .option('--offline', "connect to nothing: use the host's facts cached by the last run (.orch/facts/)")
    .option(
      '--facts <file>',
      'connect to nothing: take the facts from this file (`orch facts <host> -o json` output)',
    )
    .addOption(
      new Option(
        '--script <phase>',
        'print the batch that would run instead: check (every read-only check), or apply (after a read-only check, what it would apply)',
      ).choices(['check', 'apply']),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 rendered; 3 host unreachable or untrusted; 4 bad input. Secrets are masked in every form,
including --script (a masked script is for reading, not for running). --script apply runs the read-only check
on the host to know which states it would apply; it prints nothing when all is clean.
Examples:
  orch render replica.example.com
  orch render replica.example.com --offline
  orch render replica.example.com --script check`,
    )
    .action(async (hostName: string, states: string[], o: RenderFlags, cmd: Command) => {
      const [
        { loadInventory },
        { resolveTargets },
        { onEachHost, fleetOptionsFor },
        { gatherFacts },
        { compilePillar },
        factsCache,
      ] = await Promise.all([
        import('../../inventory/load.js'),
        import('../../inventory/target.js'),
        import('../../transport/fleet.js'),
        import('../../facts/gather.js'),
        import('../../pillar/load.js'),
        import('../../facts/cache.js'),
      ]);
      const [{ compileHost }, { precheckHost }, { createRenderEnv }, { defaultResolver }, { redactor }] =
        await Promise.all([
          import('../../engine/compile.js'),
          import('../../engine/precheck.js'),
          import('../../render/env.js'),
          import('../../secrets/resolver.js'),
          import('../../secrets/redactor.js'),
        ]);
      const project = projectFor(cmd);
      const hosts = resolveTargets(loadInventory(project), hostName);
      if (hosts.length !== 1)
        throw new OrchError('BAD_INPUT', `render takes one host; '${hostName}' matches ${hosts.length}`);
      // A YAML or template error that no facts could change is reported before connecting.
      const early = precheckHost(
        project.root,
        createRenderEnv(project.root),
        hosts[0]!,
        states.length ? states : undefined,
      );
      if (early) throw early;
      const rendered: { file: string; text: string }[] = [];
      const host = hosts[0]!;
      const compile = async (facts: Facts) => {
        const pillar = await compilePillar(project, host, { resolver: defaultResolver(project), facts });
        return compileHost({
          root: project.root,
          env: createRenderEnv(project.root),
          host,
          facts,
          pillar,
          only: states.length ? states : undefined,
          onRendered: (file, text) => rendered.push({ file, text: redactor.redact(text) }),
        });
      };
      let source: FactsSource;
      let compiled: CompiledHost;
      let script: string | undefined;
      if (o.facts !== undefined) {
        source = { kind: 'file', file: path.resolve(o.facts) };
        compiled = await compile(factsCache.readFactsFile(o.facts, host.name));
        if (o.script) script = await scriptOf(o.script, undefined, compiled);
      } else if (o.offline) {
        const cached = factsCache.readCachedFacts(project.stateDir, host.name);
        if (!cached)
          throw new OrchError(
            'BAD_INPUT',
            `--offline: no cached facts of ${host.name} (${factsCache.factsCacheFile(project.stateDir, host.name)}); ` +
              `run \`orch facts ${host.name}\` once, or pass --facts <file>`,
          );
        source = cached.source;
        compiled = await compile(cached.facts);
        if (o.script) script = await scriptOf(o.script, undefined, compiled);
      } else {
        source = { kind: 'gathered' };
        const [outcome] = await onEachHost(
          hosts,
          fleetOptionsFor(project, { acceptNewHostKeys: o.acceptNewHostkeys }),
          async (conn) => {
            const facts = await gatherFacts(conn);
            factsCache.tryWriteCachedFacts(project.stateDir, host.name, facts);
            const c = await compile(facts);
            return { compiled: c, script: o.script ? await scriptOf(o.script, conn, c) : undefined };
          },
        );
        if (!outcome!.ok) throw outcome!.error;
        compiled = outcome!.value.compiled;
        script = outcome!.value.script;
      }
      process.stderr.write(`orch: ${factsCache.describeFactsSource(host.name, source)}\n`);
      if (o.script) {
        if (globalOptions(cmd).output === 'json')
          printJson({ host: hostName, phase: o.script, facts: source, script: script ?? null });
        else if (script)
          process.stdout.write(redactor.redact(script.endsWith('\n') ? script : `${script}\n`));
        else process.stderr.write(`orch: ${hostName}: every state is clean: no apply batch would run\n`);
        return;
      }
      const order = compiled.states.map((s) => ({
        index: s.index,
        id: s.decl.id,
        fn: s.decl.fn,
        file: s.decl.file,
        line: s.decl.line,
        args: redactor.redactDeep(s.args),
        requisites: s.deps,
      }));
      if (globalOptions(cmd).output === 'json') {
        printJson({ host: hostName, facts: source, files: rendered, states: order });
        return;
      }
      for (const f of rendered) process.stdout.write(`# ---- ${f.file} ----\n${f.text.trimEnd()}\n\n`);
      process.stdout.write('# ---- execution order ----\n');
      for (const s of order)
        process.stdout.write(
          `${String(s.index + 1).padStart(3)}. ${s.fn} ${s.id}  (${s.file}${s.line ? `:${s.line}` : ''})\n`,
        );
    });
}
