// `orch render <host> [state...]`: the host's state files after templating, and the states in execution order,
// with secrets masked. Gathers facts from the host (read-only) because templates may use them; errors that need no
// facts (YAML, template syntax) are reported before connecting.
import { Option, type Command } from 'commander';
import { globalOptions, printJson, projectFor } from '../verb.js';
import type { CompiledHost } from '../../engine/compile.js';
import type { Connection } from '../../transport/types.js';

interface RenderFlags {
  acceptNewHostkeys?: boolean;
  script?: 'check' | 'apply';
}

/** The batch of a phase as it would be sent; for apply, the read-only check decides what it holds. */
async function scriptOf(
  phase: 'check' | 'apply',
  conn: Connection,
  compiled: CompiledHost,
): Promise<string | undefined> {
  const { applyScript, checkPhase, checkScript } = await import('../../engine/phases.js');
  const { newNonce } = await import('../../shell/script.js');
  if (phase === 'check') return checkScript(compiled, newNonce());
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
  orch render replica.example.com --script check`,
    )
    .action(async (hostName: string, states: string[], o: RenderFlags, cmd: Command) => {
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
          const compiled = compileHost({
            root: project.root,
            env: createRenderEnv(project.root),
            host: conn.host,
            facts,
            pillar,
            only: states.length ? states : undefined,
            onRendered: (file, text) => rendered.push({ file, text: redactor.redact(text) }),
          });
          return { compiled, script: o.script ? await scriptOf(o.script, conn, compiled) : undefined };
        },
      );
      if (!outcome!.ok) throw outcome!.error;
      if (o.script) {
        const script = outcome!.value.script;
        if (globalOptions(cmd).output === 'json')
          printJson({ host: hostName, phase: o.script, script: script ?? null });
        else if (script)
          process.stdout.write(redactor.redact(script.endsWith('\n') ? script : `${script}\n`));
        else process.stderr.write(`orch: ${hostName}: every state is clean: no apply batch would run\n`);
        return;
      }
      const order = outcome!.value.compiled.states.map((s) => ({
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
