// Images of booted lab hosts: one Debian tree per suite, made with debootstrap from this machine's apt mirror,
// cached outside the repository. A build happens in a temp dir and is renamed into place only when complete, so
// an interrupted build never leaves a tree that looks done; image.json next to the tree holds the recipe hash.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { OrchError, errorMessage } from '../errors.js';
import { machineMirror } from './apt-source.js';
import { imageRecipe, recipeHash } from './image-recipe.js';
import { withFileLock } from './registry.js';
import { run, runOk } from './run.js';
import { processAlive } from './sshd.js';
import { SUITES, type Suite } from './suites.js';

export const DEFAULT_IMAGE_DIR = '/var/cache/orch-lab/images';
const BUILD_TIMEOUT_MS = 30 * 60_000;
const BUILD_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
};

/** Where images live: $ORCH_LAB_IMAGES, or /var/cache/orch-lab/images. */
export function imageCacheDir(): string {
  return process.env.ORCH_LAB_IMAGES || DEFAULT_IMAGE_DIR;
}

export function imageDir(suite: Suite): string {
  return path.join(imageCacheDir(), suite.name);
}

/** The tree a host boots from (lower layer of its overlay). */
export function imageRootfs(suite: Suite): string {
  return path.join(imageDir(suite), 'rootfs');
}

export interface ImageMeta {
  suite: string;
  postgresql: number;
  recipeHash: string;
  mirror: string;
  builtAt: string;
  buildMs: number;
  bytes: number;
}

export type ImageState = 'ready' | 'stale' | 'absent';

export interface ImageInfo {
  suite: string;
  postgresql: number;
  state: ImageState;
  path: string;
  meta?: ImageMeta;
}

function readMeta(suite: Suite): ImageMeta | undefined {
  const file = path.join(imageDir(suite), 'image.json');
  if (!existsSync(file) || !existsSync(imageRootfs(suite))) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ImageMeta;
  } catch {
    return undefined;
  }
}

/** State of one suite's image: ready (recipe hash matches), stale (built from another recipe) or absent. */
export function imageInfo(suite: Suite): ImageInfo {
  const meta = readMeta(suite);
  const want = recipeHash(imageRecipe(suite));
  const state: ImageState = !meta ? 'absent' : meta.recipeHash === want ? 'ready' : 'stale';
  return { suite: suite.name, postgresql: suite.postgresql, state, path: imageDir(suite), meta };
}

export function listImages(): ImageInfo[] {
  return SUITES.map(imageInfo);
}

/** Remove temp trees of builds whose process is gone (an interrupted build of this suite). */
function clearDeadBuilds(suite: Suite): void {
  const cache = imageCacheDir();
  if (!existsSync(cache)) return;
  for (const entry of readdirSync(cache)) {
    const m = /^\.(?:build|old)-([a-z]+)-(\d+)$/.exec(entry);
    if (m && m[1] === suite.name && !processAlive(parseInt(m[2]!, 10)))
      rmSync(path.join(cache, entry), { recursive: true, force: true });
  }
}

/** Run argv with its output going to logFile as it comes (a build takes minutes); resolves with the exit code. */
function runToLog(argv: readonly string[], logFile: string): Promise<number> {
  const fd = openSync(logFile, 'a', 0o644);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], env: BUILD_ENV });
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new OrchError('LAB_ERROR', `cannot run ${argv[0]}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  }).finally(() => closeSync(fd));
}

async function treeBytes(dir: string): Promise<number> {
  const r = await run(['du', '-sx', '--block-size=1', dir], { timeoutMs: 120_000 });
  return parseInt(r.stdout, 10) || 0;
}

/** debootstrap, orch's files, the customise script in a chroot; returns the temp dir holding rootfs + image.json. */
async function buildTree(suite: Suite, tmp: string, log: (line: string) => void): Promise<string> {
  const started = Date.now();
  const recipe = imageRecipe(suite);
  const mirror = machineMirror();
  const rootfs = path.join(tmp, 'rootfs');
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  const logFile = path.join(tmp, 'build.log');
  log(`debootstrap ${suite.name} from ${mirror} (log: ${logFile})`);
  const code = await runToLog(
    [
      'debootstrap',
      `--variant=${recipe.variant}`,
      `--include=${recipe.packages.join(',')}`,
      suite.name,
      rootfs,
      mirror,
    ],
    logFile,
  );
  if (code !== 0) {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
    throw new OrchError('LAB_ERROR', `debootstrap ${suite.name} failed (exit ${code}):\n${tail}`);
  }
  for (const [file, f] of Object.entries(recipe.files)) {
    const target = path.join(rootfs, file);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    writeFileSync(target, f.content);
    chmodSync(target, f.mode);
  }
  await runOk(['chroot', rootfs, '/bin/sh', '-c', recipe.script], { timeoutMs: 300_000, env: BUILD_ENV });
  const meta: ImageMeta = {
    suite: suite.name,
    postgresql: suite.postgresql,
    recipeHash: recipeHash(recipe),
    mirror,
    builtAt: new Date().toISOString(),
    buildMs: Date.now() - started,
    bytes: await treeBytes(rootfs),
  };
  writeFileSync(path.join(tmp, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return tmp;
}

export interface BuildOptions {
  /** Rebuild even when the image is ready. */
  force?: boolean;
  /** Throws when the image may not be replaced now (booted hosts run on it). */
  beforeSwap?: (suite: Suite) => Promise<void> | void;
  log?: (line: string) => void;
}

/** Build the suite's image when absent or stale (or forced); returns its info and whether it was built now. */
export async function buildImage(
  suite: Suite,
  opts: BuildOptions = {},
): Promise<{ info: ImageInfo; built: boolean }> {
  const log = opts.log ?? (() => undefined);
  const cache = imageCacheDir();
  mkdirSync(cache, { recursive: true, mode: 0o755 });
  return withFileLock(
    path.join(cache, `.${suite.name}.lock`),
    async () => {
      const before = imageInfo(suite);
      if (before.state === 'ready' && !opts.force) return { info: before, built: false };
      await opts.beforeSwap?.(suite);
      clearDeadBuilds(suite);
      const tmp = path.join(cache, `.build-${suite.name}-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      try {
        await buildTree(suite, tmp, log);
        await opts.beforeSwap?.(suite);
        // Swap: the old tree moves aside in one rename, the new one takes its name in another.
        const dir = imageDir(suite);
        const old = path.join(cache, `.old-${suite.name}-${process.pid}`);
        if (existsSync(dir)) renameSync(dir, old);
        renameSync(tmp, dir);
        rmSync(old, { recursive: true, force: true });
      } catch (err) {
        rmSync(tmp, { recursive: true, force: true });
        throw err instanceof OrchError
          ? err
          : new OrchError('LAB_ERROR', `building the ${suite.name} image failed: ${errorMessage(err)}`, {
              cause: err,
            });
      }
      return { info: imageInfo(suite), built: true };
    },
    BUILD_TIMEOUT_MS,
    `the ${suite.name} image is being built by another process`,
  );
}

/** Remove the suite's image (renamed away first, so it disappears at once); false when there was none. */
export async function removeImage(
  suite: Suite,
  beforeRemove?: (suite: Suite) => Promise<void> | void,
): Promise<boolean> {
  const cache = imageCacheDir();
  if (!existsSync(imageDir(suite))) return false;
  return withFileLock(
    path.join(cache, `.${suite.name}.lock`),
    async () => {
      const dir = imageDir(suite);
      if (!existsSync(dir)) return false;
      await beforeRemove?.(suite);
      const old = path.join(cache, `.old-${suite.name}-${process.pid}`);
      renameSync(dir, old);
      rmSync(old, { recursive: true, force: true });
      return true;
    },
    60_000,
    `the ${suite.name} image is being built by another process`,
  );
}
