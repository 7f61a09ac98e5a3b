// `orch --version`: the package version, the commit when orch runs from a git checkout, Node, and the versions
// of the dependencies that decide behaviour on hosts (ssh2, nunjucks, zod, ...), as a bug report wants them.
import { execFileSync, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KEY_DEPENDENCIES = [
  'ssh2',
  'nunjucks',
  'zod',
  'commander',
  'js-yaml',
  'age-encryption',
  'better-sqlite3',
  'pg',
];

/** The directory of orch's package.json (src/cli or dist/src/cli below it). */
function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = path.dirname(dir);
    const file = path.join(dir, 'package.json');
    if (existsSync(file) && readJson(file)?.name === 'orch') return dir;
  }
  return undefined;
}

function readJson(file: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}

/** A dependency's installed version, looked up in node_modules from the package root upwards. */
function depVersion(root: string, dep: string): string {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const v = readJson(path.join(dir, 'node_modules', dep, 'package.json'))?.version;
    if (v) return v;
    if (path.dirname(dir) === dir) return 'missing';
  }
}

function gitCommit(root: string): string | undefined {
  if (!existsSync(path.join(root, '.git'))) return undefined;
  try {
    const opts: ExecFileSyncOptionsWithStringEncoding = {
      cwd: root,
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    };
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}

/** The text of `orch --version`. */
export function versionText(): string {
  const root = packageRoot();
  if (!root) return `orch unknown\nnode ${process.version}`;
  const version = readJson(path.join(root, 'package.json'))?.version ?? 'unknown';
  const commit = gitCommit(root);
  const deps = KEY_DEPENDENCIES.map((d) => `${d} ${depVersion(root, d)}`).join(', ');
  return [`orch ${version}${commit ? ` (commit ${commit})` : ''}`, `node ${process.version}`, deps].join(
    '\n',
  );
}
