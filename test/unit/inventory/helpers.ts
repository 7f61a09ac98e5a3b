// Shared by the inventory tests: a ProjectConfig over fixture paths.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfig } from '../../../src/config/project.js';

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/inventory');

export function projectAt(root: string, inventoryPaths: string[]): ProjectConfig {
  return {
    root,
    stateDir: path.join(root, '.orch'),
    inventoryPaths,
    knownHostsFile: path.join(os.tmpdir(), 'orch-test-known-hosts'),
    parallel: 4,
    settings: {},
  };
}
