// Runs one postgres.* state through the engine's real check and apply phases on the local shell, against a temp
// PostgreSQL cluster (args point at its socket, port and OS user).
import { compileHost } from '../../../../src/engine/compile.js';
import { applyPhase, checkPhase } from '../../../../src/engine/phases.js';
import type { StateResult } from '../../../../src/engine/result.js';
import { parseFacts } from '../../../../src/facts/parse.js';
import type { Facts } from '../../../../src/facts/types.js';
import type { AnyStateFunction, CheckOutcome, StateContext } from '../../../../src/states/types.js';
import { LocalConnection, testHost } from '../../../helpers/local-connection.js';
import { PG_BIN, type TempPostgres } from '../../../helpers/temp-postgres.js';

type CompiledHost = ReturnType<typeof compileHost>;

/** Facts of a host with PostgreSQL 15 binaries installed and no cluster discovered. */
export function pgFacts(): Facts {
  const f = parseFacts('');
  f.postgres.versions = ['15'];
  f.postgres.binDirs = { '15': PG_BIN };
  return f;
}

/** Module args that point a state at the temp cluster. */
export function at(server: TempPostgres): Record<string, unknown> {
  return {
    socket_dir: server.socketDir,
    port: server.port,
    os_user: process.getuid?.() === 0 ? 'postgres' : undefined,
  };
}

export function testCtx(facts: Facts = pgFacts(), render?: StateContext['renderTemplate']): StateContext {
  return {
    host: testHost(),
    facts,
    pillar: {},
    renderTemplate:
      render ??
      (() => {
        throw new Error('no templates in this test');
      }),
  };
}

/** Compile one state by hand (the engine's compileHost needs state files; this is the same shape). */
export function compileOne(
  fnName: string,
  impl: AnyStateFunction,
  rawArgs: Record<string, unknown>,
  ctx = testCtx(),
): CompiledHost {
  const clean = Object.fromEntries(Object.entries(rawArgs).filter(([, v]) => v !== undefined));
  const args = impl.args.parse(clean) as Record<string, unknown>;
  const none = { require: [], watch: [], onchanges: [] };
  const prepared = impl.prepare ? impl.prepare(args, ctx) : undefined;
  return {
    host: ctx.host,
    facts: ctx.facts,
    pillar: {},
    ctx,
    states: [
      {
        decl: {
          id: String(args.name),
          fn: fnName,
          module: fnName.split('.')[0]!,
          args: clean,
          requisites: none,
          requisitesIn: none,
          file: 'test',
        },
        index: 0,
        deps: none,
        impl,
        args,
        prepared,
      },
    ],
  };
}

export interface Run {
  check: CheckOutcome;
  result?: StateResult;
  scripts: string[];
}

/** Check, and apply when asked: the scripts sent are returned so tests can inspect them. */
export async function runState(compiled: CompiledHost, apply: boolean): Promise<Run> {
  const conn = new LocalConnection(compiled.host);
  const checks = await checkPhase(conn, compiled);
  const run: Run = { check: checks[0]!, scripts: conn.scripts };
  if (apply) run.result = (await applyPhase(conn, compiled, checks))[0];
  return run;
}
