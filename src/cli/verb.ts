// What a verb file exports, and the global options every verb can read.
import path from 'node:path';
import type { Command } from 'commander';
import { loadProject, type ProjectConfig } from '../config/project.js';
import { redactor } from '../secrets/redactor.js';

export interface VerbModule {
  register(program: Command): void;
}

export interface GlobalOptions {
  root?: string;
  inventory?: string[];
  output: 'human' | 'json';
  parallel?: number;
  sshConfig?: string;
}

/** The global options as given on the command line (they live on the root program). */
export function globalOptions(cmd: Command): GlobalOptions {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts() as {
    root?: string;
    inventory?: string[];
    output?: string;
    parallel?: number;
    sshConfig?: string;
  };
  const output = o.output === 'json' ? 'json' : 'human';
  return { root: o.root, inventory: o.inventory, output, parallel: o.parallel, sshConfig: o.sshConfig };
}

/** The project for this invocation, from the global options. */
export function projectFor(cmd: Command): ProjectConfig {
  const g = globalOptions(cmd);
  // A path typed on the command line is relative to where it was typed, not to the project root.
  const sshConfig =
    g.sshConfig === undefined || g.sshConfig === 'none' ? g.sshConfig : path.resolve(g.sshConfig);
  // Passed on to background workers this run may start (they read the environment, not our argv).
  if (sshConfig !== undefined) process.env.ORCH_SSH_CONFIG = sshConfig;
  return loadProject({ root: g.root, inventory: g.inventory, parallel: g.parallel, sshConfig });
}

/** Print a value as stable, pretty JSON on stdout, every secret masked (in values, keys and JSON escapes). */
export function printJson(value: unknown): void {
  process.stdout.write(`${redactor.redact(JSON.stringify(redactor.redactDeep(value), null, 2))}\n`);
}
