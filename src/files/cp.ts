// `orch cp` on one host: send a local file to a path on the host, or fetch one back. Sending stages the file over
// SFTP (the login user's private directory, staging.ts) and puts it in place with one script, under become when
// asked (place.ts: atomic, owner and mode before the rename, as the directory's owner). Fetching reads the path
// over SFTP directly, or under become to root has root copy it into the staging directory first. Under become to
// any other account (which cannot read the login user's staging directory) the bytes go over the exec channel
// instead (streamed.ts).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { OrchError } from '../errors.js';
import { parseBatchOutput } from '../shell/protocol.js';
import { placeStagedStep, stageForFetchStep } from '../shell/place.js';
import { shQuote } from '../shell/quote.js';
import { buildBatch, newNonce } from '../shell/script.js';
import { becomeArgv } from '../transport/ssh-connection.js';
import type { Connection } from '../transport/types.js';
import { filesOf, transferError, withStaging } from './staging.js';
import { becomesAnother, fetchStreamed, sendStreamed } from './streamed.js';

export interface SendOptions {
  localFile: string;
  /** Absolute path on the host. */
  remote: string;
  sha256: string;
  user?: string;
  group?: string;
  /** Four-digit octal mode. */
  mode?: string;
  become: boolean;
}

export interface SendResult {
  changed: boolean;
}

/** sha256 (hex) of a local file, read as a stream. */
export function sha256OfFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Run one step body on the host and return its status and output; a failed step throws COMMAND_FAILED. */
async function runStep(
  conn: Connection,
  body: string,
  become: boolean,
): Promise<{ changed: boolean; kv: Record<string, string> }> {
  const nonce = newNonce();
  const res = await conn.runScript(buildBatch(nonce, [{ index: 0, body }]), { become });
  const out = parseBatchOutput(res.stdout, nonce).get(0);
  if (out?.status === 0 || out?.status === 100) return { changed: out.status === 100, kv: out.kv };
  const why = out?.text || res.stderr.trim() || `exit status ${res.code ?? res.signal ?? '?'}`;
  throw new OrchError('COMMAND_FAILED', `${conn.host.name}: ${why}`);
}

/** Send a local file to the host (one SFTP upload and one script; one streamed script under become to another user). */
export async function sendFile(conn: Connection, o: SendOptions): Promise<SendResult> {
  if (becomesAnother(conn.host, o.become)) {
    const place = { file: o.remote, sha256: o.sha256, user: o.user, group: o.group, mode: o.mode ?? '0644' };
    return sendStreamed(conn, o.localFile, place, o.become);
  }
  return withStaging(conn, async (stage) => {
    const staged = stage.path('upload');
    await stage.files
      .put({ localFile: o.localFile }, staged, 0o600)
      .catch((err: unknown) => Promise.reject(transferError(conn, `cannot send ${o.localFile}`, err)));
    const body = placeStagedStep({
      file: o.remote,
      staged: shQuote(staged),
      sha256: o.sha256,
      user: o.user,
      group: o.group,
      mode: o.mode ?? '0644',
      fsync: true,
    });
    return { changed: (await runStep(conn, body, o.become)).changed };
  });
}

export interface FetchResult {
  /** Where the copy was stored on this machine. */
  localFile: string;
  bytes: number;
}

/** Where a host's copy of `remote` is stored under `localDir`: <localDir>/<host>/<file name>. */
export function fetchedPath(localDir: string, host: string, remote: string): string {
  return path.join(localDir, host, path.posix.basename(remote));
}

/** Fetch `remote` from the host into fetchedPath(...), written atomically (a temp file, then rename). */
export async function fetchFile(
  conn: Connection,
  remote: string,
  localDir: string,
  become: boolean,
): Promise<FetchResult> {
  const dest = fetchedPath(localDir, conn.host.name, remote);
  await mkdir(path.dirname(dest), { recursive: true });
  const part = `${dest}.orch-part-${randomBytes(6).toString('hex')}`;
  const argv = becomeArgv(conn.host, become);
  // Under become to another account the become user reads the file; as the login user SFTP reads it itself.
  const asOther = argv.length > 0 && argv[argv.length - 1] !== conn.host.user;
  try {
    if (becomesAnother(conn.host, become)) await fetchStreamed(conn, remote, part, become);
    else if (asOther) {
      await withStaging(conn, async (stage) => {
        const staged = stage.path('fetched');
        const { kv } = await runStep(conn, stageForFetchStep(remote, staged, conn.host.user), become);
        await stage.files
          .get(staged, part)
          .catch((err: unknown) => Promise.reject(transferError(conn, `cannot fetch ${remote}`, err)));
        const got = await sha256OfFile(part);
        if (got !== kv.sha256)
          throw new OrchError(
            'TRANSFER_FAILED',
            `${conn.host.name}: the fetched copy of ${remote} does not match the host's sha256`,
          );
      });
    } else {
      const files = await filesOf(conn);
      const st = await files.stat(remote).catch((err: unknown) => {
        throw transferError(conn, `cannot inspect ${remote}`, err);
      });
      if (st?.kind !== 'file')
        throw new OrchError(
          'COMMAND_FAILED',
          `${conn.host.name}: ${remote} ${st ? 'is not a regular file' : 'does not exist'}`,
        );
      await files
        .get(remote, part)
        .catch((err: unknown) => Promise.reject(transferError(conn, `cannot fetch ${remote}`, err)));
    }
    await rename(part, dest);
  } finally {
    await rm(part, { force: true });
  }
  const { size } = await stat(dest);
  return { localFile: dest, bytes: size };
}
