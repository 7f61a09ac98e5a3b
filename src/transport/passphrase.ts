// Asking for the passphrase of a protected key file: on the controlling terminal (/dev/tty, as ssh does, so it
// works with stdin piped), echo off, once per key file per process however many hosts use it. Without a terminal
// it fails at once with what to do instead, rather than waiting for input that cannot come.
import { openSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import { AuthFailedError } from '../errors.js';

/** Gives the passphrase of a key file, or throws AuthFailedError. `check` says whether a candidate decrypts it. */
export type PassphraseSource = (file: string, host: string, check: (p: string) => boolean) => Promise<string>;

const unlocked = new Map<string, Promise<string>>();

/** The default source: the terminal, asked at most once per file (three tries at typing it). */
export const askOnTerminal: PassphraseSource = (file, host, check) => {
  let p = unlocked.get(file);
  if (!p) {
    p = promptUntilRight(file, host, check);
    unlocked.set(file, p);
    // A failed prompt is not remembered: the next host may ask again only if this one gave up on an error.
    p.catch(() => unlocked.delete(file));
  }
  return p;
};

async function promptUntilRight(file: string, host: string, check: (p: string) => boolean): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw new AuthFailedError(
      host,
      `${host}: identity file ${file} is passphrase-protected and there is no terminal to ask on: ` +
        `load it into ssh-agent first (ssh-add ${file}) or run orch from a terminal`,
    );
  }
  const input = new tty.ReadStream(fd);
  try {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const typed = await readHidden(input, fd, `Enter passphrase for ${file}: `, host);
      if (check(typed)) return typed;
      writeSync(fd, 'Bad passphrase, try again.\n');
    }
    throw new AuthFailedError(host, `${host}: wrong passphrase for identity file ${file} (3 tries)`);
  } finally {
    input.destroy();
  }
}

function readHidden(input: tty.ReadStream, fd: number, prompt: string, host: string): Promise<string> {
  // Echo goes off before the prompt shows: keys typed the moment it appears are not echoed either.
  input.setRawMode(true);
  writeSync(fd, prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      writeSync(fd, '\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || (ch === '\u0004' && typed === ''))
          return done(new AuthFailedError(host, `${host}: passphrase prompt cancelled`));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
