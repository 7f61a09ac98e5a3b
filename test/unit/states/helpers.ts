// A throwaway project (states/, templates/, a target directory) and a run through the real engine phases on the
// local /bin/sh, for state module tests. StubConnection defines shell functions (fake systemctl, apt-get, ...)
// ahead of each script: functions win over PATH, so the module's generated shell runs against tools we control.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileHost, type CompiledHost } from '../../../src/engine/compile.js';
import { applyPhase, checkPhase, testResults } from '../../../src/engine/phases.js';
import type { StateResult } from '../../../src/engine/result.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { createRenderEnv } from '../../../src/render/env.js';
import type { CheckOutcome } from '../../../src/states/types.js';
import type { ExecOptions, ExecResult } from '../../../src/transport/types.js';
import { LocalConnection, testHost } from '../../helpers/local-connection.js';

export class StubConnection extends LocalConnection {
  constructor(private readonly stubs: string) {
    super(testHost());
  }
  override runScript(script: string, opts: Omit<ExecOptions, 'stdin'> = {}): Promise<ExecResult> {
    return super.runScript(`${this.stubs}\n${script}`, opts);
  }
}

export class Project {
  readonly root = mkdtempSync(path.join(tmpdir(), 'orch-states-'));
  /** Where tests point their states (inside the temp root). */
  readonly target = path.join(this.root, 'host');

  constructor(
    readonly facts: Facts = parseFacts(''),
    readonly conn: LocalConnection = new LocalConnection(testHost()),
  ) {
    for (const d of ['states', 'templates', 'host']) mkdirSync(path.join(this.root, d));
  }

  /** Write states/site.yaml (and the top file assigning it) plus optional templates. */
  states(yaml: string, templates: Record<string, string> = {}): this {
    writeFileSync(path.join(this.root, 'states', 'top.yaml'), "'*': [site]\n");
    writeFileSync(path.join(this.root, 'states', 'site.yaml'), yaml);
    for (const [name, text] of Object.entries(templates))
      writeFileSync(path.join(this.root, 'templates', name), text);
    return this;
  }

  compile(pillar: Record<string, unknown> = {}): CompiledHost {
    return compileHost({
      root: this.root,
      env: createRenderEnv(this.root),
      host: testHost(),
      facts: this.facts,
      pillar,
    });
  }

  /** Check only (like apply --test): the raw outcomes and the results. */
  async check(): Promise<{ checks: CheckOutcome[]; results: StateResult[] }> {
    const compiled = this.compile();
    const checks = await checkPhase(this.conn, compiled);
    return { checks, results: testResults(compiled, checks) };
  }

  /** Check then apply, as `orch apply` does. */
  async apply(): Promise<StateResult[]> {
    const compiled = this.compile();
    return applyPhase(this.conn, compiled, await checkPhase(this.conn, compiled));
  }

  path(...parts: string[]): string {
    return path.join(this.target, ...parts);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** YAML for one state: `id: {fn: [ {k: v}, ... ]}` with values JSON-encoded (valid YAML flow scalars). */
export function state(id: string, fn: string, args: Record<string, unknown>): string {
  const lines = Object.entries(args).map(([k, v]) => `    - ${k}: ${JSON.stringify(v)}`);
  return `${JSON.stringify(id)}:\n  ${fn}:\n${lines.join('\n')}\n`;
}
