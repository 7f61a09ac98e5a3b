// The login user's private staging directory on a host: a fresh /tmp/orch-xfer-<random> made over SFTP with mode
// 0700 (mkdir fails when anything is there already, so nobody can plant it), holding what is sent before a script
// puts it in place, or what is fetched. Removed, with what it holds, when the work is done.
import { randomBytes } from 'node:crypto';
import { OrchError } from '../errors.js';
import type { Connection, FileChannel } from '../transport/types.js';

export interface Staging {
  /** The directory's path on the host. */
  readonly dir: string;
  readonly files: FileChannel;
  /** Path on the host of a name in the directory (a plain name: letters, digits, . _ -). */
  path(name: string): string;
}

/** The connection's file channel, or a TRANSFER_FAILED error naming the host. */
export async function filesOf(conn: Connection): Promise<FileChannel> {
  if (!conn.files)
    throw new OrchError('TRANSFER_FAILED', `${conn.host.name}: this connection cannot transfer files`);
  return conn.files();
}

/** Run `work` with a fresh staging directory on the host; the directory and its entries are removed afterwards. */
export async function withStaging<T>(conn: Connection, work: (s: Staging) => Promise<T>): Promise<T> {
  const files = await filesOf(conn);
  const dir = `/tmp/orch-xfer-${randomBytes(12).toString('hex')}`;
  try {
    await files.mkdir(dir, 0o700);
  } catch (err) {
    throw transferError(conn, `cannot make a staging directory ${dir}`, err);
  }
  const names = new Set<string>();
  const staging: Staging = {
    dir,
    files,
    path: (name) => {
      if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..')
        throw new OrchError('INTERNAL', `not a staging name: ${name}`);
      names.add(name);
      return `${dir}/${name}`;
    },
  };
  try {
    const st = await files.lstat(dir);
    // The umask can only narrow 0700; anything else means the directory is not the one just made.
    if (st?.kind !== 'dir' || (st.mode & 0o077) !== 0)
      throw new OrchError('TRANSFER_FAILED', `${conn.host.name}: staging directory ${dir} is not private`);
    return await work(staging);
  } finally {
    for (const name of names) await files.unlink(`${dir}/${name}`).catch(() => undefined);
    await files.rmdir(dir).catch(() => undefined);
  }
}

/** A TRANSFER_FAILED error for the host, with the cause's message. */
export function transferError(conn: Connection, what: string, err: unknown): OrchError {
  if (err instanceof OrchError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OrchError('TRANSFER_FAILED', `${conn.host.name}: ${what}: ${message}`, { cause: err });
}
