// The one runner of the per-OS cases in test/fixtures/os/*.yaml (see its README.md): each case names a facts
// fixture; the OS layer's commands and paths for those facts, and the replication formula compiled for a primary
// and a replica with them, must be what the case expects. Keys a case leaves out are not checked.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { loadProject } from '../../../src/config/project.js';
import { compileHost } from '../../../src/engine/compile.js';
import { osPaths, type ServiceAction } from '../../../src/facts/os/index.js';
import { installLine, refreshLine, toolEnv, isKnownTool } from '../../../src/facts/os/pkg.js';
import { parseFacts } from '../../../src/facts/parse.js';
import type { Facts } from '../../../src/facts/types.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { compilePillar } from '../../../src/pillar/load.js';
import { createRenderEnv } from '../../../src/render/env.js';
import type { SecretResolver } from '../../../src/secrets/ref.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { fixture } from './fixtures.js';

const CASES = path.join(REPO_ROOT, 'test/fixtures/os');
const argv = z.array(z.string());

const caseSchema = z.strictObject({
  facts: z.string(),
  version: z.string(),
  expect: z.strictObject({
    facts: z.record(z.string(), z.string()).optional(),
    freebsd: z.boolean().optional(),
    service: z.partialRecord(z.enum(['start', 'stop', 'status', 'restart', 'reload']), argv).optional(),
    enable: argv.optional(),
    isEnabled: argv.optional(),
    su: z.string().optional(),
    pkgEnv: z.string().optional(),
    install: z.string().optional(),
    refresh: z.string().optional(),
    query: z.string().optional(),
    postgres: z.record(z.string(), z.unknown()).optional(),
    formula: z
      .strictObject({
        vars: z.record(z.string(), z.unknown()).optional(),
        primary: z.array(z.string()),
        replica: z.array(z.string()),
        args: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
        replicaScript: z.array(z.string()).optional(),
        /** Pairs [a, b] per role: state a runs before state b. */
        order: z
          .partialRecord(z.enum(['primary', 'replica']), z.array(z.tuple([z.string(), z.string()])))
          .optional(),
      })
      .optional(),
  }),
});
type Case = z.infer<typeof caseSchema>;

const fakeResolver: SecretResolver = { decrypt: async () => 'os-case-password' };

async function compileFormula(hostName: string, facts: Facts, vars: Record<string, unknown> = {}) {
  const project = loadProject({ root: REPO_ROOT });
  const inv = loadInventory(project).hosts.get(hostName);
  assert.ok(inv, `inventory host ${hostName}`);
  const host = { ...inv, vars: { ...inv.vars, ...vars } };
  const pillar = await compilePillar(project, host, { resolver: fakeResolver, facts });
  return compileHost({ root: REPO_ROOT, env: createRenderEnv(REPO_ROOT), host, facts, pillar });
}

const files = readdirSync(CASES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('facts/os: per-OS cases (test/fixtures/os)', () => {
  it('has cases for every OS the README calls fixture-tested', () => {
    for (const want of ['freebsd13', 'freebsd14', 'alma9', 'rocky9'])
      assert.ok(
        files.some((f) => f.startsWith(want)),
        want,
      );
  });

  for (const file of files) {
    describe(file, () => {
      const c: Case = caseSchema.parse(yaml.load(readFileSync(path.join(CASES, file), 'utf8')));
      const facts = parseFacts(fixture(c.facts));
      const os = osPaths(facts);
      const e = c.expect;
      const pg = os.postgresPaths(c.version);

      it('facts and OS commands', () => {
        for (const [k, v] of Object.entries(e.facts ?? {}))
          assert.equal(String((facts as unknown as Record<string, unknown>)[k]), v, `facts.${k}`);
        if (e.freebsd !== undefined) assert.equal(os.freebsd, e.freebsd);
        for (const [action, want] of Object.entries(e.service ?? {})) {
          assert.deepEqual(os.serviceCmd(pg.serviceName, action as ServiceAction), want, action);
          assert.deepEqual(os.serviceActionCmd(pg.serviceName, action as ServiceAction), want, action);
        }
        if (e.enable) assert.deepEqual(os.enableCmd(pg.serviceName), e.enable);
        if (e.isEnabled) assert.deepEqual(os.isEnabledCmd(pg.serviceName), e.isEnabled);
        if (e.su !== undefined) assert.equal(os.suCommand(pg.pgUser, 'id'), e.su);
      });

      it('package tool lines', () => {
        const tool = facts.pkgTool;
        assert.ok(isKnownTool(tool), tool);
        if (e.pkgEnv !== undefined) assert.equal(toolEnv(tool), e.pkgEnv);
        if (e.install !== undefined) assert.equal(installLine(tool), e.install);
        if (e.refresh !== undefined) assert.equal(refreshLine(tool), e.refresh);
        if (e.query !== undefined) assert.ok(os.pkgQueryScript([pg.serverPackage]).includes(e.query));
      });

      it('PostgreSQL layout', () => {
        for (const [k, v] of Object.entries(e.postgres ?? {}))
          assert.deepEqual((pg as unknown as Record<string, unknown>)[k], v, `postgres.${k}`);
      });

      const f = e.formula;
      if (f)
        it('the replication formula compiles for a primary and a replica', async () => {
          for (const [role, hostName] of [
            ['primary', 'primary.example.com'],
            ['replica', 'replica.example.com'],
          ] as const) {
            const compiled = await compileFormula(hostName, facts, f.vars);
            assert.deepEqual(compiled.states.map((s) => s.decl.id).sort(), [...f[role]].sort(), role);
            for (const s of compiled.states)
              for (const [k, v] of Object.entries(f.args?.[s.decl.id] ?? {}))
                assert.deepEqual(s.args[k], v, `${role} ${s.decl.id}.${k}`);
            const order = compiled.states.map((s) => s.decl.id);
            for (const [a, b] of f.order?.[role] ?? []) {
              assert.ok(order.includes(a) && order.includes(b), `${role}: ${a}, ${b}`);
              assert.ok(order.indexOf(a) < order.indexOf(b), `${role}: ${a} before ${b}`);
            }
            const built = compiled.states.find((s) => s.decl.id === 'replica_built');
            if (built && f.replicaScript) {
              const script = (built.prepared as { script: string }).script;
              for (const want of f.replicaScript) assert.ok(script.includes(want), `replica script: ${want}`);
            }
          }
        });
    });
  }
});
