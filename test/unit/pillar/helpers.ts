// Shared by the pillar tests: the fixture project, a fake resolver, and throwaway projects.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfig } from '../../../src/config/project.js';
import type { SecretRef, SecretResolver } from '../../../src/secrets/ref.js';

export const fixtureRoot = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/pillar/project',
);

export function projectAt(root: string): ProjectConfig {
  return {
    root,
    stateDir: path.join(root, '.orch'),
    inventoryPaths: [path.join(root, 'inventory')],
    knownHostsFile: path.join(root, '.orch/known_hosts'),
    parallel: 4,
    settings: {},
  };
}

export interface FakeCall {
  ciphertext: string;
  host: string;
  keyPath: string;
  file?: string;
}

/** A resolver that "decrypts" by a lookup table keyed by the first characters after the age header. */
export function fakeResolver(plain: (ref: SecretRef) => string): SecretResolver & { calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  return {
    calls,
    async decrypt(ref, where) {
      calls.push({ ciphertext: ref.ciphertext, ...where });
      return plain(ref);
    },
  };
}

/** A temporary project with the given files (paths relative to its root). */
export function tempProject(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-pillar-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}
