// The only place that quotes for POSIX /bin/sh. Everything that builds a remote command goes through here.
import { OrchError } from '../errors.js';

/**
 * Refuse a value with a NUL byte: no shell word, path or argument can hold one. dash, bash and busybox sh drop a
 * NUL from the script text, so `'/e\0tc'` would silently act on `/etc`.
 */
export function assertNoNul(value: string, what = 'a value'): void {
  if (value.includes('\0')) {
    // The value itself is left out of the message: it may be a secret.
    throw new OrchError(
      'BAD_INPUT',
      `${what} contains a NUL byte (at offset ${value.indexOf('\0')}), which no shell word can hold`,
    );
  }
}

/** Quote one word for /bin/sh: single quotes, with embedded single quotes closed and escaped. Refuses NUL. */
export function shQuote(word: string): string {
  assertNoNul(word, 'a shell word');
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quote a list of words and join them into one command line. */
export function shJoin(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}

// How content reaches a host: printf with the content as its format, inside single quotes, never a here-document.
// A here-document's end is found by the shell's own line reader, and the shells get that wrong in ways no choice of
// delimiter avoids: bash ends one inside `$(...)` at a line `DELIM)`, dash drops a byte after a line that starts
// with a prefix of the delimiter followed by a non-ASCII byte. Single quotes end only at `'`, which never appears
// literally here, and printf (a builtin in dash, bash, busybox ash and FreeBSD sh, so nothing shows in ps) turns
// `\ooo` back into the exact byte, NUL included. Bytes outside a plain printable-ASCII set are written as octal,
// so the script text is pure ASCII whatever the content (no locale or encoding can change it); the plain set stays
// literal so a batch stays close to the content's size (octal for every byte would make it four times larger).
// Left out of the plain set: `'` (ends the quote), `\` and `%` (printf's escapes and conversions), and
// `$`, backquote, `(` and `)`, which a shell that scans `$(...)` for its end before parsing might misread.
// A format starting with `-` could read as an option, so the first byte of each printf is never left as `-`.
// Chunks keep every line of the script short.
const PLAIN = new Set([...' !"#&*+,-./:;<=>?@[]^_{|}~'].map((c) => c.charCodeAt(0)));
for (let c = 0x30; c <= 0x39; c++) PLAIN.add(c);
for (let c = 0x41; c <= 0x5a; c++) PLAIN.add(c);
for (let c = 0x61; c <= 0x7a; c++) PLAIN.add(c);

/** Bytes of content per printf line (at most four times as many characters of script). */
const CHUNK = 1024;

function printfFormat(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (PLAIN.has(b) && !(i === 0 && b === 0x2d)) out += String.fromCharCode(b);
    else if (b === 0x0a) out += '\\n';
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/**
 * The content as single-quoted printf formats, one word per chunk: each word, given to a builtin printf as its
 * format, prints its bytes exactly. For callers that pass the formats on (the run-as helper in actor.ts).
 */
export function printfWords(content: string | Uint8Array): string[] {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const words: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) words.push(`'${printfFormat(bytes.subarray(i, i + CHUNK))}'`);
  return words;
}

/**
 * A command that prints `content` (a string, written as UTF-8, or raw bytes) byte for byte, followed by `redirect`
 * (`> "$tmp"`, `| cmd`). Safe at top level, in `$(...)`, subshells and pipelines; the result is pure ASCII and
 * holds no newline inside a quote, so it can be embedded anywhere a command can.
 */
export function printContent(content: string | Uint8Array, redirect = ''): string {
  const to = redirect ? ` ${redirect}` : '';
  const lines = printfWords(content).map((w) => `printf ${w}`);
  if (lines.length === 0) return `:${to}`;
  if (lines.length === 1) return `${lines[0]!}${to}`;
  return `{\n${lines.join('\n')}\n}${to}`;
}

/**
 * `command` with `content` on its stdin as a quoted here-document: passed as it is (no expansion), ended by a
 * delimiter that is no line of the content, so no content can end it early and be read as shell. A small one is
 * written by the shell itself, with no writer process (a printf pipeline forks one, and the command too when it is a
 * function). A newline is added to content that lacks one; NUL cannot travel this way.
 */
export function hereDocument(command: string, content: string): string {
  if (content.includes('\0')) throw new Error('a here-document cannot carry a NUL byte');
  const lines = new Set(content.split('\n'));
  let delim = 'ORCH_EOF';
  for (let n = 1; lines.has(delim); n++) delim = `ORCH_EOF_${n}`;
  return `${command} <<'${delim}'\n${content.endsWith('\n') ? content : `${content}\n`}${delim}\n`;
}

/**
 * argv running the /bin/sh command line `command` such that whatever shell parses the argv first (an sshd session's
 * login shell: sh, bash, or csh/tcsh, root's shell on FreeBSD up to 13) passes it on unchanged. csh has no "$@",
 * expands `!` (history) even in single quotes and in scripts, and cannot hold a newline inside quotes; so the
 * command travels as one word of octal escapes only (`\ooo` for every byte but letters and digits), and /bin/sh
 * gets a constant decoder that turns it back with printf and runs it with `/bin/sh -c` (no positional parameters).
 * With `passArg`, the word the caller puts after these (unquoted, as the watchdog's CONTROLLER_ARG) is its $1.
 */
export function viaBinSh(command: string, passArg = false): string[] {
  let octal = '';
  for (const b of Buffer.from(command, 'utf8')) {
    const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    octal += alnum ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  }
  // $(...) drops trailing newlines only, which end the command anyway; printf's format has no % (all escaped).
  // A fresh `sh -c` rather than eval: it execs a last simple command, so a timeout's signal reaches that command.
  const decode = 'orch_c=$(printf "$1") && exec /bin/sh -c "$orch_c"';
  return ['/bin/sh', '-c', passArg ? `${decode} sh "$2"` : decode, 'sh', octal];
}
