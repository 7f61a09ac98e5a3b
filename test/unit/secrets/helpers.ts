// Shared setup for the secrets tests: throwaway projects with real age keys in temp directories.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import type { ProjectConfig } from '../../../src/config/project.js';

export interface Key {
  identity: string;
  recipient: string;
}

export async function newKey(): Promise<Key> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export interface TempProject {
  dir: string;
  project: ProjectConfig;
  cleanup(): void;
}

/** A project root in a fresh temp dir with pillar/.recipients listing the given recipients. */
export function tempProject(recipients: string[]): TempProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-secrets-test-'));
  mkdirSync(path.join(dir, 'pillar'), { recursive: true });
  writeFileSync(path.join(dir, 'pillar', '.recipients'), `# test recipients\n${recipients.join('\n')}\n`);
  const project: ProjectConfig = {
    root: dir,
    stateDir: path.join(dir, '.orch'),
    inventoryPaths: [path.join(dir, 'inventory')],
    knownHostsFile: path.join(dir, '.orch', 'known_hosts'),
    parallel: 4,
    settings: {},
  };
  return { dir, project, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An environment with only the given inline identities (no file fallbacks from the real home). */
export function envWith(identities: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ORCH_AGE_IDENTITY: identities.join('\n'), XDG_CONFIG_HOME: '/nonexistent-orch-test', ...extra };
}

/** The text with every `!secret <token>` token replaced by a placeholder: what must stay byte-identical. */
export function skeleton(text: string): string {
  return text.replace(/!secret [A-Za-z0-9+/=]+/g, '!secret <TOKEN>');
}

export function tokensOf(text: string): string[] {
  return [...text.matchAll(/!secret ([A-Za-z0-9+/=]+)/g)].map((m) => m[1]!);
}
