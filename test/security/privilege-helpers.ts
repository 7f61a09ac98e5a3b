// Shared by the privilege tests: directories owned by the postgres OS account, root-owned decoy files with a
// snapshot of their bytes and metadata, and bounded child processes that run as another account (a reader as
// `nobody`, a symlink-swapping attacker as `postgres`). Every child stops on a stop file or its own deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const isRoot = process.getuid?.() === 0;

function account(name: string): { uid: number; gid: number } {
  const f = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
    ?.split(':');
  if (!f) throw new Error(`no ${name} account on this machine`);
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
export const pgAccount = (): { uid: number; gid: number } => account('postgres');

/** A fresh root-owned 0755 directory under the system temp dir (others may look, not write). */
export function openTempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

/** A directory owned by postgres (0755 unless given) inside `parent`. */
export function pgDir(parent: string, name: string, mode = 0o755): string {
  const d = path.join(parent, name);
  mkdirSync(d, { recursive: true });
  const { uid, gid } = pgAccount();
  chownSync(d, uid, gid);
  chmodSync(d, mode);
  return d;
}

/** Root-owned files and a directory outside every managed path, for an attacker to point links at. */
export function makeDecoys(root: string): string[] {
  const d = path.join(root, 'decoys');
  mkdirSync(d, { recursive: true, mode: 0o755 });
  chmodSync(d, 0o755);
  const secret = path.join(d, 'root-only');
  writeFileSync(secret, 'root secret\n', { mode: 0o600 });
  const shared = path.join(d, 'root-readable');
  writeFileSync(shared, 'root config\n', { mode: 0o644 });
  const dir = path.join(d, 'root-dir');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'inside'), 'inside\n', { mode: 0o600 });
  return [secret, shared, dir];
}

/** sha256 (files), owner, group and mode of each decoy and of everything inside decoy directories. */
export function snapshot(paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (p: string): void => {
    const st = lstatSync(p);
    const sum = st.isFile()
      ? createHash('sha256').update(readFileSync(p)).digest('hex')
      : st.isDirectory()
        ? 'dir'
        : 'other';
    out[p] = `${sum} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) visit(path.join(p, e));
  };
  for (const p of paths) visit(p);
  return out;
}

/** A bounded loop as `user`: `kind` reader tries to read matching files; attacker swaps them for symlinks. */
export interface Prowler {
  stop(): Promise<{ attempts: number; hits: number }>;
}

// Runs as another account, so it uses nothing but node's own modules. Each pass lists the watched directories once.
// Arguments: kind, stop file, deadline (ms), name pattern, required sibling pattern ('' for none), link targets
// (newline-separated), directories. Prints {attempts, hits} as JSON when it ends.
export const PROWLER = `
const fs = require('fs'), path = require('path');
const [kind, stopFile, deadline, pattern, requires, targets, ...dirs] = process.argv.slice(1);
const re = new RegExp(pattern), need = requires ? new RegExp(requires) : null, links = targets ? targets.split('\\n') : [];
let attempts = 0, hits = 0, n = 0;
const end = Date.now() + Number(deadline);
while (Date.now() < end && !fs.existsSync(stopFile) && attempts < 5e7) {
  for (const d of dirs) {
    let names = [];
    try { names = fs.readdirSync(d); } catch { continue; }
    if (need && !names.some((x) => need.test(x))) continue;
    for (const name of names) {
      if (!re.test(name)) continue;
      const p = path.join(d, name);
      attempts++;
      try {
        if (kind === 'reader') { fs.readFileSync(p); hits++; continue; }
        if (fs.lstatSync(p).isSymbolicLink()) continue;
        const target = links[n++ % links.length], tmp = p + '.x' + n;
        fs.symlinkSync(target, tmp);
        try { fs.renameSync(tmp, p); } catch { fs.renameSync(p, p + '.gone' + n); fs.renameSync(tmp, p); }
        hits++;
      } catch {}
    }
  }
}
process.stdout.write(JSON.stringify({ attempts, hits }));
`;

export function prowl(
  kind: 'reader' | 'attacker',
  user: string,
  dirs: string[],
  pattern: RegExp,
  targets: string[] = [],
  maxMs = 120_000,
  /** Act in a directory only once one of its entries matches this. */
  requires?: RegExp,
): Prowler {
  const stopDir = openTempDir('orch-stop-');
  const stopFile = path.join(stopDir, 'stop');
  const child: ChildProcess = spawn(
    'runuser',
    [
      '-u',
      user,
      '--',
      process.execPath,
      '-e',
      PROWLER,
      kind,
      stopFile,
      String(maxMs),
      pattern.source,
      requires?.source ?? '',
      targets.join('\n'),
      ...dirs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    async stop() {
      writeFileSync(stopFile, '');
      await done;
      rmSync(stopDir, { recursive: true, force: true });
      return JSON.parse(out || '{"attempts":0,"hits":0}') as { attempts: number; hits: number };
    },
  };
}
