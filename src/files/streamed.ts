// File transfer under become to an account that is neither root nor the login user (say postgres): that account
// cannot read the login user's private SFTP staging directory, so the bytes travel on the exec channel, to or from
// a step run as the become user (shell/stream.ts). Sending writes beside the target with the usual place logic;
// fetching hashes on both ends and keeps the local copy only when the hashes match; file.managed's sources go into
// a staging directory private to the become user, removed after the batch.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { OrchError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { parseBatchOutput, type StepOutput } from '../shell/protocol.js';
import { shQuote } from '../shell/quote.js';
import { newNonce } from '../shell/script.js';
import {
  RECEIVE_PRELUDE,
  SEND_BACK_PRELUDE,
  readyLine,
  receiveStep,
  receiveToStageStep,
  sendBackStep,
  streamedBatch,
  type ReceiveOptions,
} from '../shell/stream.js';
import { becomeUser } from '../transport/ssh-connection.js';
import type { Connection, ExecResult, StreamOptions } from '../transport/types.js';

/**
 * Whether become (as requested, or the host's own when undefined) runs as an account other than root and the login
 * user: then SFTP's staging cannot serve and the bytes go over the exec channel.
 */
export function becomesAnother(
  host: Pick<HostSpec, 'become' | 'user'>,
  requested: boolean | undefined,
): boolean {
  const user = becomeUser(host, requested);
  return user !== undefined && user !== 'root' && user !== '0' && user !== host.user;
}

function streamer(conn: Connection): (script: string, opts: StreamOptions) => Promise<ExecResult> {
  const run = conn.runStreamed?.bind(conn);
  if (!run)
    throw new OrchError(
      'TRANSFER_FAILED',
      `${conn.host.name}: this connection cannot stream files to another account under become`,
    );
  return run;
}

/** Step 0's output of a batch, or COMMAND_FAILED with its message (or the shell's) when it failed. */
function stepOf(conn: Connection, res: ExecResult, framing: string, nonce: string): StepOutput {
  const out = parseBatchOutput(framing, nonce).get(0);
  if (out?.status === 0 || out?.status === 100) return out;
  const why = out?.text || res.stderr.trim() || `exit status ${res.code ?? res.signal ?? '?'}`;
  throw new OrchError('COMMAND_FAILED', `${conn.host.name}: ${why}`);
}

/** Send a local file to `o.file` on the host as the become user, over the exec channel (one exec). */
export async function sendStreamed(
  conn: Connection,
  localFile: string,
  o: ReceiveOptions,
  become: boolean,
): Promise<{ changed: boolean }> {
  const nonce = newNonce();
  const script = streamedBatch(nonce, [{ index: 0, body: receiveStep(o) }], RECEIVE_PRELUDE);
  const res = await streamer(conn)(script, {
    become,
    feed: {
      send: readyLine(nonce, true),
      skip: readyLine(nonce, false),
      data: () => createReadStream(localFile),
    },
  });
  return { changed: stepOf(conn, res, res.stdout, nonce).status === 100 };
}

/**
 * Fetch `remote` into the new local file `part` as the become user: the bytes come raw on stdout, are hashed as
 * they are written, and must match the sha256 the host computed of what it sent. Returns only once the local
 * writer has closed, so the caller may delete `part` on failure.
 */
export async function fetchStreamed(
  conn: Connection,
  remote: string,
  part: string,
  become: boolean,
): Promise<void> {
  const run = streamer(conn);
  const nonce = newNonce();
  const hash = createHash('sha256');
  const writer = createWriteStream(part, { flags: 'wx' });
  let writeError: Error | undefined;
  const closed = new Promise<void>((resolve) => {
    writer.once('close', () => resolve());
    writer.once('error', (err: Error) => {
      writeError ??= err;
      resolve();
    });
  });
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  tap.pipe(writer);
  let res: ExecResult;
  try {
    res = await run(streamedBatch(nonce, [{ index: 0, body: sendBackStep(remote) }], SEND_BACK_PRELUDE), {
      become,
      stdoutSink: tap,
    });
  } finally {
    tap.end();
    await closed;
  }
  if (writeError)
    throw new OrchError('TRANSFER_FAILED', `${conn.host.name}: cannot write ${part}: ${writeError.message}`, {
      cause: writeError,
    });
  const out = stepOf(conn, res, res.stderr, nonce);
  if (out.kv.sha256 !== hash.digest('hex'))
    throw new OrchError(
      'TRANSFER_FAILED',
      `${conn.host.name}: the fetched copy of ${remote} does not match the sha256 of what the host sent`,
    );
}

const STAGE_DIR = /^\/tmp\/orch-xfer-[A-Za-z0-9]+$/;

/**
 * Run `work` with `uploads` (sha256 -> bytes) in a staging directory private to the become user, made and filled
 * as that user over the exec channel (one exec per upload), removed afterwards (one exec).
 */
export async function withBecomeStaging<T>(
  conn: Connection,
  uploads: ReadonlyMap<string, Uint8Array>,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  const run = streamer(conn);
  let dir: string | undefined;
  try {
    for (const [sha, data] of uploads) {
      const nonce = newNonce();
      const script = streamedBatch(
        nonce,
        [{ index: 0, body: receiveToStageStep(dir, sha) }],
        RECEIVE_PRELUDE,
      );
      const res = await run(script, {
        feed: {
          send: readyLine(nonce, true),
          skip: readyLine(nonce, false),
          data: () => Readable.from([Buffer.from(data)]),
        },
      });
      // Known before the step's verdict, so a failed first upload still has its directory removed.
      const made = parseBatchOutput(res.stdout, nonce).get(0)?.kv.dir;
      if (dir === undefined && made !== undefined && STAGE_DIR.test(made)) dir = made;
      stepOf(conn, res, res.stdout, nonce);
      if (dir === undefined)
        throw new OrchError('TRANSFER_FAILED', `${conn.host.name}: no staging directory was made`);
    }
    return await work(dir!);
  } finally {
    if (dir !== undefined) await conn.exec(`rm -rf -- ${shQuote(dir)}`).catch(() => undefined);
  }
}
