// The lab registry (/run/orch-lab/registry.json) and the lock that serialises lab changes across processes.
// It manages only files under the lab runtime dir.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OrchError, errorMessage } from '../errors.js';
import { LAB_DIR, LOCK_FILE, REGISTRY_FILE } from './paths.js';
import type { Registry, RegistryHost } from './types.js';
import { processAlive } from './sshd.js';

/** The registry; empty when the lab was never brought up. */
export function readRegistry(): Registry {
  if (!existsSync(REGISTRY_FILE)) return { version: 1, hosts: [] };
  try {
    const parsed = JSON.parse(readFileSync(REGISTRY_FILE, 'utf8')) as Partial<Registry>;
    return { version: 1, hosts: Array.isArray(parsed.hosts) ? parsed.hosts : [] };
  } catch (err) {
    throw new OrchError('LAB_ERROR', `${REGISTRY_FILE} is unreadable: ${errorMessage(err)}`, { cause: err });
  }
}

/** Replace the registry atomically (write + rename), so readers never see half a file. */
export function writeRegistry(reg: Registry): void {
  mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
  const hosts = [...reg.hosts].sort((a, b) => a.name.localeCompare(b.name));
  const tmp = `${REGISTRY_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, REGISTRY_FILE);
}

/** Find a host by full or short name. */
export function findHost(reg: Registry, name: string): RegistryHost | undefined {
  return reg.hosts.find((h) => h.name === name || h.short === name);
}

let inProcess: Promise<unknown> = Promise.resolve();

/**
 * Run fn holding the lab lock: a file with the holder's pid, taken with O_EXCL; a lock whose holder died is taken
 * over. Calls within this process are queued first, so the file lock never waits on its own pid.
 */
export function withLabLock<T>(fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const next = inProcess.then(async () => {
    await acquire(LOCK_FILE, timeoutMs, 'the lab is busy');
    try {
      return await fn();
    } finally {
      rmSync(LOCK_FILE, { force: true });
    }
  });
  inProcess = next.catch(() => undefined);
  return next;
}

/** Run fn holding the pid lock file `file` (the lab lock's rules); `busy` starts the LOCKED message. */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  timeoutMs: number,
  busy: string,
): Promise<T> {
  await acquire(file, timeoutMs, busy);
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

async function acquire(file: string, timeoutMs: number, busy: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let unreadableSince: number | undefined;
  for (;;) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // released between our attempts
    }
    // An empty lock may be one being written right now: only a lasting one is treated as stale.
    if (!Number.isInteger(holder)) {
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 2000) rmSync(file, { force: true });
    } else if (!processAlive(holder)) {
      rmSync(file, { force: true });
      continue;
    } else unreadableSince = undefined;
    if (Date.now() > deadline) {
      throw new OrchError('LOCKED', `${busy} (lock held by pid ${holder}, ${file})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
