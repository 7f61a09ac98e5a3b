// Where a project's files live: the repo root (states, templates, pillar, inventory) and orch's state dir.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { InputError } from '../errors.js';
import { checkSettings } from './settings.js';

export interface ProjectConfig {
  /** Repo root holding states/, templates/, pillar/, inventory/. */
  root: string;
  /** orch's own state (known_hosts, job store, lab exports); default <root>/.orch. */
  stateDir: string;
  /** Inventory files or directories, absolute. */
  inventoryPaths: string[];
  knownHostsFile: string;
  /** Hosts worked on at once. */
  parallel: number;
  /** A Salt tree's environment for this run (`--saltenv`); unset: every environment of the top files. */
  saltenv?: string;
  /** Raw orch.yaml contents, for subsystems with their own sections (jobs, drift). */
  settings: Record<string, unknown>;
}

export interface ProjectOptions {
  root?: string;
  inventory?: string[];
  parallel?: number;
}

/** Resolve the project from options, ORCH_* environment variables and an optional orch.yaml in the root. */
export function loadProject(opts: ProjectOptions = {}): ProjectConfig {
  const root = path.resolve(opts.root ?? process.env.ORCH_ROOT ?? process.cwd());
  const configFile = path.join(root, 'orch.yaml');
  let settings: Record<string, unknown> = {};
  if (existsSync(configFile)) {
    const text = readFileSync(configFile, 'utf8');
    try {
      const loaded = yaml.load(text, {
        schema: yaml.CORE_SCHEMA,
        filename: configFile,
      });
      if (loaded && typeof loaded === 'object') settings = loaded as Record<string, unknown>;
    } catch (err) {
      const line = (err as { mark?: { line?: number } }).mark?.line;
      throw new InputError(
        'YAML_ERROR',
        (err as Error).message,
        { file: configFile, line: line === undefined ? undefined : line + 1 },
        { cause: err },
      );
    }
    checkSettings(settings, text, path.relative(root, configFile));
  }
  const stateDir = path.resolve(root, process.env.ORCH_STATE_DIR ?? str(settings.state_dir) ?? '.orch');
  const inv = opts.inventory?.length ? opts.inventory : [str(settings.inventory) ?? 'inventory'];
  return {
    root,
    stateDir,
    inventoryPaths: inv.map((p) => path.resolve(root, p)),
    knownHostsFile: path.resolve(
      root,
      process.env.ORCH_KNOWN_HOSTS ?? str(settings.known_hosts) ?? path.join(stateDir, 'known_hosts'),
    ),
    parallel: opts.parallel ?? num(settings.parallel) ?? 50,
    settings,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}
