// The repository's replication formula compiled for one host with a changed pillar, the way `orch apply` does
// before it touches any host: pillar compiled (secrets through a fake resolver), then every state compiled.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadProject } from '../../src/config/project.js';
import { compileHost, type CompiledHost } from '../../src/engine/compile.js';
import { parseFacts } from '../../src/facts/parse.js';
import { loadInventory } from '../../src/inventory/load.js';
import { compilePillar } from '../../src/pillar/load.js';
import { createRenderEnv } from '../../src/render/env.js';
import { REPO_ROOT } from '../helpers/cli.js';

export const PRIMARY = 'primary.example.com';
export const REPLICA = 'replica.example.com';

export interface FormulaOptions {
  host?: string;
  /** What the fake resolver decrypts every secret to. */
  password?: string;
  /** Changes made to the compiled pillar's `postgres` mapping before the states compile. */
  edit?: (pg: Record<string, unknown>) => void;
}

/** Compile the formula; throws the compile error. */
export async function compileFormula(opts: FormulaOptions = {}): Promise<CompiledHost> {
  const project = loadProject({ root: REPO_ROOT });
  const host = loadInventory(project).hosts.get(opts.host ?? PRIMARY)!;
  const facts = parseFacts(
    readFileSync(path.join(REPO_ROOT, 'test/fixtures/facts/debian12-pg15-running.txt'), 'utf8'),
  );
  const password = opts.password ?? 'security-test-password';
  const pillar = await compilePillar(project, host, { resolver: { decrypt: async () => password }, facts });
  opts.edit?.(pillar.postgres as Record<string, unknown>);
  return compileHost({ root: REPO_ROOT, env: createRenderEnv(REPO_ROOT), host, facts, pillar });
}

/** The compile error of the formula (fails when it compiles). */
export async function compileError(opts: FormulaOptions): Promise<Error> {
  try {
    await compileFormula(opts);
  } catch (err) {
    return err as Error;
  }
  throw new Error('the formula compiled, but a compile error was expected');
}

/** The prepared content of a compiled state (file.managed / postgres.hba). */
export function preparedContent(c: CompiledHost, id: string): string {
  const s = c.states.find((x) => x.decl.id === id);
  if (!s) throw new Error(`no state ${id}`);
  return (s.prepared as { content: string }).content;
}
