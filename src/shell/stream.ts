// Scripts that move a file's bytes over the exec channel itself, for become to an account other than root (or the
// login user): SFTP runs as the login user, whose private staging directory such an account cannot read, and a
// directory both could use would be one another account can write. So the bytes go on the script's stdin, after
// the script, to a step run as the become user, or come back raw on its stdout.
// - Sending: the script is one compound command ending in `exit`, so the shell has parsed all of it before any step
//   runs and never reads the data as script (dash and busybox sh read stdin in blocks). The step prints a ready line
//   (kv ready 1) when it wants the data, or ready 0 when the target already has the sha256 sent (its copy is used
//   and nothing travels); the controller feeds stdin only then (transport/ssh-connection.ts runStreamed).
// - Fetching: the batch's framing goes to stderr and the file's bytes, once, to stdout (descriptor 3), hashed on
//   the host as they are sent (tee into a fifo), so both ends hash the same bytes.
// Builds shell text only.
import { writeFileStep, type WriteFileOptions } from './place.js';
import { shQuote } from './quote.js';
import { MARK, buildBatch, type ScriptStep } from './script.js';

/** Prelude of a receiving batch: descriptor 6 is the script's stdin (each step's own stdin is /dev/null). */
export const RECEIVE_PRELUDE = 'exec 6<&0\n';

/** Prelude of a fetching batch: descriptor 3 is the channel's stdout, everything else (framing too) goes to stderr. */
export const SEND_BACK_PRELUDE = 'exec 3>&1 1>&2\n';

/** The line a receiving step prints when it wants the data on stdin (or, wanted false, when it needs none). */
export function readyLine(nonce: string, wanted: boolean): string {
  return `${MARK}:${nonce}:kvt:ready:${wanted ? 1 : 0}\n`;
}

/** A batch as one compound command that ends the shell: nothing after it is read as script. */
export function streamedBatch(nonce: string, steps: readonly ScriptStep[], prelude: string): string {
  return `{\n${buildBatch(nonce, steps, prelude)}\nexit\n}\n`;
}

/** Shell checking the new file "$tmp" against the sha256 the controller sent. */
function checkSha(sha: string): string {
  return `orch_shav "$tmp"
# shellcheck disable=SC2154 # orch_sha is set by orch_shav (script.ts)
[ "$orch_sha" = ${sha} ] || { echo "the copy of $f does not have the sha256 that was sent (got \${orch_sha:-no hash}): the transfer was cut short"; exit 1; }`;
}

export type ReceiveOptions = Omit<WriteFileOptions, 'produce' | 'fsync'> & { sha256: string };

/**
 * Step body writing the bytes on descriptor 6 to `file` (writeFileStep: a temp file beside it, fsync, owner and
 * mode, rename, as the account that owns the directory), checked against `sha256`. A target that already has that
 * sha256 is copied instead and no data is asked for; atomicWrite then leaves it alone when owner and mode match.
 * A temp file is removed by atomicWrite's EXIT trap, also when a TERM ends the script; only a KILL leaves one
 * (`<dir>/.orch.XXXXXX`, the writer's, mode 0600).
 */
export function receiveStep(o: ReceiveOptions): string {
  const sha = shQuote(o.sha256);
  const produce = `# shellcheck disable=SC2154 # orch_sha is set by orch_shav (script.ts)
if [ -f "$f" ] && [ ! -L "$f" ] && orch_shav "$f" && [ "$orch_sha" = ${sha} ]; then
  orch_kv ready 0
  cat -- "$f" > "$tmp"
else
  orch_kv ready 1
  cat <&6 > "$tmp"
fi
exec 6<&-
${checkSha(sha)}`;
  const { sha256: _sha, ...write } = o;
  return writeFileStep({ ...write, produce, fsync: true });
}

/**
 * Step body receiving the bytes on descriptor 6 into `<dir>/<sha256>`, a staging directory private to the become
 * user: made here (mktemp -d, 0700, reported as kv dir) when `dir` is undefined, else checked to be a directory of
 * this account with mode 0700 and nothing else. file.managed's steps then read their sources from it as that user.
 */
export function receiveToStageStep(dir: string | undefined, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  const sha = shQuote(sha256);
  const open =
    dir === undefined
      ? `orch_sd=$(mktemp -d /tmp/orch-xfer-XXXXXXXXXX)
orch_kv dir "$orch_sd"`
      : `orch_sd=${shQuote(dir)}
orch_statv "$orch_sd"
# shellcheck disable=SC2154 # orch_st is set by orch_statv (script.ts)
if [ ! -d "$orch_sd" ] || [ -L "$orch_sd" ] || [ "\${orch_st%%:*}:\${orch_st##*:}" != "$(id -un):700" ]; then
  echo "staging directory $orch_sd is not private to $(id -un)"; exit 1
fi`;
  return `${open}
f="$orch_sd"/${sha}; tmp=$f
orch_kv ready 1
set -C
cat <&6 > "$tmp"
exec 6<&-
${checkSha(sha)}`;
}

/**
 * Step body sending `file` raw on descriptor 3, once, and reporting kv sha256 of exactly the bytes sent (tee into
 * a fifo in a private temp directory, removed by the EXIT trap). The file is opened once, by the step's account.
 */
export function sendBackStep(file: string): string {
  return `orch_src=${shQuote(file)}
if [ ! -f "$orch_src" ]; then
  if [ -e "$orch_src" ]; then echo "$orch_src is not a regular file"; else echo "$orch_src does not exist"; fi
  exit 1
fi
exec 5< "$orch_src"
orch_fd=$(mktemp -d)
trap 'rm -rf -- "$orch_fd"' EXIT
mkfifo "$orch_fd/p"
orch_sha256 "$orch_fd/p" > "$orch_fd/h" &
if ! tee -- "$orch_fd/p" <&5 >&3; then
  kill "$!" 2>/dev/null || :
  wait || :
  echo "cannot read $orch_src"
  exit 1
fi
wait
exec 5<&-
IFS= read -r orch_sha < "$orch_fd/h" || orch_sha=
orch_kv sha256 "$orch_sha"`;
}
