// Step bodies that write one file on a host: from content inside the script (file.managed's text), or from a file
// sent ahead over SFTP into the login user's private staging directory (orch cp, file.managed's binary or large
// sources). Either way the write is atomicWrite's (temp file beside the target, owner and mode before the rename)
// run as the account that owns the directory (actor.ts). A staged file is opened once, by the step's own account,
// on descriptor 5, which the actor's shell inherits: no account ever acts by path inside the staging directory, and
// what reaches the target is checked against the sha256 the controller sent. Builds shell text only.
import path from 'node:path';
import { asDirOwner } from './actor.js';
import { atomicWrite } from './file.js';
import { shQuote } from './quote.js';

export interface WriteFileOptions {
  /** Absolute path of the file on the host. */
  file: string;
  /** Shell writing the new content to "$tmp". */
  produce: string;
  user?: string;
  group?: string;
  mode?: string;
  /** Create missing parent directories (else a missing directory fails the step). */
  makedirs?: boolean;
  /** Flush the new file to disk before the rename. */
  fsync?: boolean;
}

/** Step body replacing `file` with what `produce` writes; orch_changed=1 when it was replaced. */
export function writeFileStep(o: WriteFileOptions): string {
  const f = shQuote(o.file);
  const dir = shQuote(path.posix.dirname(o.file));
  const write = atomicWrite({
    fileVar: 'f',
    dirVar: 'd',
    tmpVar: 'tmp',
    produce: o.produce,
    user: o.user,
    group: o.group,
    mode: o.mode,
    fsync: o.fsync,
  });
  // Everything that creates, renames or chmods runs as the account that owns the directory.
  return asDirOwner(
    dir,
    `f=${f}; d=${dir}
${o.makedirs ? 'mkdir -p -- "$d"' : '[ -d "$d" ] || { echo "directory $d does not exist"; exit 1; }'}
if [ -e "$f" ] && { [ ! -f "$f" ] || [ -L "$f" ]; }; then echo "$f exists and is not a regular file"; exit 1; fi
${write}`,
  );
}

export interface PlaceStagedOptions extends Omit<WriteFileOptions, 'produce'> {
  /** Shell word naming the staged file (a quoted literal, or e.g. "$orch_stage"/name). */
  staged: string;
  /** sha256 (hex) of what was sent: the new file must hash to it. */
  sha256: string;
}

/** Step body installing a staged upload at `file` (see writeFileStep); fails when the bytes are not the ones sent. */
export function placeStagedStep(o: PlaceStagedOptions): string {
  const sha = shQuote(o.sha256);
  const produce = `cat <&5 > "$tmp"
orch_shav "$tmp"
[ "$orch_sha" = ${sha} ] || { echo "the copy of $f does not have the sha256 that was sent (got $orch_sha)"; exit 1; }`;
  return `orch_src=${o.staged}
if [ ! -f "$orch_src" ] || [ ! -r "$orch_src" ]; then
  echo "cannot read the upload $orch_src as $(id -un): it is sent as the login user into a private directory, which only that user and root can read"
  exit 1
fi
exec 5< "$orch_src"
${writeFileStep({ ...o, produce })}
exec 5<&-`;
}

/**
 * Step body copying `file` of the host into `staged` (in the login user's private staging directory) as `loginUser`,
 * for fetching under become; kv sha256 is the copy's hash. The source is opened by the step's account, the copy
 * written by the login user: nothing acts by path inside the other's directories.
 */
export function stageForFetchStep(file: string, staged: string, loginUser: string): string {
  return `orch_src=${shQuote(file)}
[ -f "$orch_src" ] || { echo "$orch_src is not a regular file"; exit 1; }
exec 5< "$orch_src"
orch_run_as ${shQuote(loginUser)} /bin/sh -c 'cat > "$1"' sh ${shQuote(staged)} <&5
exec 5<&-
orch_shav ${shQuote(staged)}
orch_kv sha256 "$orch_sha"`;
}
