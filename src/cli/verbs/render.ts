// `orch render <host> [state...]`: the host's state files after templating, and the states in execution order,
// with secrets masked. Gathers facts from the host (read-only) because templates may use them; errors that need no
// facts (YAML, template syntax) are reported before connecting.
import type { Command } from 'commander';
import { globalOptions, printJson, projectFor } from '../verb.js';

export function register(program: Command): void {
  program
    .command('render')
    .description(
      "show a host's state files after templating and the resulting states in order (secrets masked)",
    )
    .argument('<host>', 'one host name from the inventory')
    .argument('[states...]', "state files to render instead of the top file's")
    .option('--accept-new-hostkeys', 'record an unknown host key (a changed key is still refused)')
    .action(async (hostName: string, states: string[], o: { acceptNewHostkeys?: boolean }, cmd: Command) => {
      const [
        { loadInventory },
        { resolveTargets },
        { onEachHost, fleetOptionsFor },
        { gatherFacts },
        { compilePillar },
      ] = await Promise.all([
        import('../../inventory/load.js'),
        import('../../inventory/target.js'),
        import('../../transport/fleet.js'),
        import('../../facts/gather.js'),
        import('../../pillar/load.js'),
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
        throw new (await import('../../errors.js')).OrchError(
          'BAD_INPUT',
          `render takes one host; '${hostName}' matches ${hosts.length}`,
        );
      // A YAML or template error that no facts could change is reported before connecting.
      const early = precheckHost(
        project.root,
        createRenderEnv(project.root),
        hosts[0]!,
        states.length ? states : undefined,
      );
      if (early) throw early;
      const rendered: { file: string; text: string }[] = [];
      const [outcome] = await onEachHost(
        hosts,
        fleetOptionsFor(project, { acceptNewHostKeys: o.acceptNewHostkeys }),
        async (conn) => {
          const facts = await gatherFacts(conn);
          const pillar = await compilePillar(project, conn.host, {
            resolver: defaultResolver(project),
            facts,
          });
          return compileHost({
            root: project.root,
            env: createRenderEnv(project.root),
            host: conn.host,
            facts,
            pillar,
            only: states.length ? states : undefined,
            onRendered: (file, text) => rendered.push({ file, text: redactor.redact(text) }),
          });
        },
      );
      if (!outcome!.ok) throw outcome!.error;
      const order = outcome!.value.states.map((s) => ({
        index: s.index,
        id: s.decl.id,
        fn: s.decl.fn,
        file: s.decl.file,
        line: s.decl.line,
        args: redactor.redactDeep(s.args),
        requisites: s.deps,
      }));
      if (globalOptions(cmd).output === 'json') {
        printJson({ host: hostName, files: rendered, states: order });
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
