// The job store holds who ran what and the hosts' output: readable by its owner only. The state directory is
// 0700 and the SQLite files (database, -wal, -shm) 0600, also when they already exist with looser modes.
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Create dir (and missing parents) as 0700; when `tighten`, an existing dir is made 0700 too. */
export function privateDir(dir: string, tighten: boolean): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  if (tighten && (st.mode & 0o077) !== 0 && ownedByUs(st.uid)) chmodSync(dir, st.mode & 0o7700);
}

/** Create the database file empty as 0600 before SQLite opens it (no moment at the umask's mode). */
export function createPrivateFile(file: string): void {
  if (existsSync(file)) return;
  // 'a' never truncates: another process creating it at the same time keeps its content.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}

/** Make the database and its -wal / -shm files 0600 (symlinks are left alone: chmod would follow them). */
export function tightenFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    let st;
    try {
      st = lstatSync(f);
    } catch {
      continue;
    }
    if (st.isFile() && (st.mode & 0o077) !== 0 && ownedByUs(st.uid)) chmodSync(f, PRIVATE_FILE_MODE);
  }
}

const ownedByUs = (uid: number) => process.getuid === undefined || process.getuid() === uid;
