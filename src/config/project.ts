// Where a project's files live: the repo root (states, templates, pillar, inventory) and orch's state dir.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
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
  /** The OpenSSH client config read for Host/HostName/User/Port/IdentityFile/ProxyJump; absent: none read. */
  sshConfigFile?: string;
  /** OpenSSH known_hosts files trusted besides knownHostsFile (orch.yaml `openssh_known_hosts`); [] by default. */
  opensshKnownHostsFiles?: string[];
}

export interface ProjectOptions {
  root?: string;
  inventory?: string[];
  parallel?: number;
  /** `--ssh-config <file>`: an OpenSSH client config to read instead of ~/.ssh/config; `none` reads none. */
  sshConfig?: string;
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
    ...sshConfigFor(root, opts.sshConfig ?? process.env.ORCH_SSH_CONFIG, settings.ssh_config, configFile),
    opensshKnownHostsFiles: opensshKnownHostsFor(root, settings.openssh_known_hosts, configFile),
  };
}

/**
 * Which ssh_config to read: `--ssh-config`/$ORCH_SSH_CONFIG, else orch.yaml `ssh_config` (a path, or false), else
 * ~/.ssh/config when it exists. `none` (or false) reads none. A file named explicitly must exist.
 */
function sshConfigFor(
  root: string,
  given: string | undefined,
  setting: unknown,
  configFile: string,
): { sshConfigFile?: string } {
  if (setting !== undefined && setting !== false && typeof setting !== 'string') {
    throw new InputError('SSH_CONFIG_ERROR', 'ssh_config: expected a file path, or false to read none', {
      file: configFile,
    });
  }
  const named = given ?? (setting === false ? 'none' : str(setting));
  if (named === 'none') return {};
  if (named === undefined) {
    const home = path.join(os.homedir(), '.ssh', 'config');
    return existsSync(home) ? { sshConfigFile: home } : {};
  }
  const file = path.resolve(root, expandHome(named));
  if (!existsSync(file)) {
    throw new InputError('SSH_CONFIG_ERROR', `ssh_config file not found: ${file}`, {
      file: given === undefined ? configFile : undefined,
    });
  }
  return { sshConfigFile: file };
}

/** orch.yaml `openssh_known_hosts`: true for OpenSSH's default files, or a list of files; off by default. */
function opensshKnownHostsFor(root: string, setting: unknown, configFile: string): string[] {
  if (setting === undefined || setting === false) return [];
  if (setting === true) return [path.join(os.homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  if (Array.isArray(setting) && setting.every((f) => typeof f === 'string' && f.length > 0))
    return (setting as string[]).map((f) => path.resolve(root, expandHome(f)));
  throw new InputError(
    'BAD_INPUT',
    'openssh_known_hosts: expected true, false or a list of known_hosts files',
    { file: configFile },
  );
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}
