// How a scheduled run starts orch: this node binary and orch's entry script, preferring the built
// dist/src/cli/main.js; from a source checkout without a build, main.ts through tsx's loader. Reads paths only.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface OrchEntry {
  node: string;
  nodeArgs: string[];
  main: string;
}

/** The command a schedule runs, from the running process (argv[1] is orch's entry script). */
export function orchEntry(
  script: string | undefined = process.argv[1],
  resolveTsx?: () => string,
): OrchEntry {
  if (!script) throw new Error('cannot tell where orch is installed: give --main');
  const main = realpathSync(script);
  if (!main.endsWith('.ts')) return { node: process.execPath, nodeArgs: [], main };
  const built = path.resolve(path.dirname(main), '../../dist/src/cli/main.js');
  if (existsSync(built)) return { node: process.execPath, nodeArgs: [], main: built };
  const loader = resolveTsx ? resolveTsx() : import.meta.resolve('tsx');
  return { node: process.execPath, nodeArgs: ['--import', loader], main };
}
